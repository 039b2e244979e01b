/**
 * Small dense linear algebra on Float64Array (row-major n×n), enough for a Gaussian process:
 * Cholesky with jitter, triangular solves, the inverse from a Cholesky factor.
 */

/** In-place lower Cholesky of a (row-major, n×n) symmetric matrix; false when a pivot is not positive. */
function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j]!;
    for (let k = 0; k < j; k++) d -= a[rowJ + k]! * a[rowJ + k]!;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j]!;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rowJ + k] = 0;
  }
  return true;
}

/**
 * Lower Cholesky factor L of the symmetric positive (semi-)definite matrix `m` (L·Lᵀ = m + jitter·I).
 * Tries no jitter first, then 1e-10·mean(diag), ×10 each time, up to 1e-2·mean(diag) (then throws).
 * Returns the factor and the jitter that was added.
 */
export function choleskyWithJitter(m: Float64Array, n: number): { L: Float64Array; jitter: number } {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += m[i * n + i]!;
  meanDiag = n > 0 ? Math.abs(meanDiag / n) || 1 : 1;
  let jitter = 0;
  for (;;) {
    const a = Float64Array.from(m);
    if (jitter > 0) for (let i = 0; i < n; i++) a[i * n + i]! += jitter;
    if (choleskyInPlace(a, n)) return { L: a, jitter };
    jitter = jitter === 0 ? 1e-10 * meanDiag : jitter * 10;
    if (jitter > 1e-2 * meanDiag) throw new Error('cholesky: matrix is not positive definite even with jitter');
  }
}

/** Solves L·x = b (L lower triangular, row-major n×n). */
export function solveLower(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    const row = i * n;
    for (let k = 0; k < i; k++) s -= L[row + k]! * x[k]!;
    x[i] = s / L[row + i]!;
  }
  return x;
}

/** Solves Lᵀ·x = b (L lower triangular, row-major n×n). */
export function solveUpperT(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/** (L·Lᵀ)⁻¹ from the Cholesky factor (row-major n×n, symmetric). */
export function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  // Linv = L⁻¹ (lower), then A⁻¹ = Linvᵀ·Linv.
  const linv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    linv[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k]! * linv[k * n + j]!;
      linv[i * n + j] = s / L[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += linv[k * n + i]! * linv[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
