/**
 * Normal-distribution helpers for the truncated Parzen estimators (log-space where tails matter).
 */

const SQRT1_2 = Math.SQRT1_2;
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log(erfc(x)) for x ≥ 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7 everywhere,
 * no underflow because it is evaluated in log space).
 */
function logErfcNonNeg(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) + poly;
}

export function erfc(x: number): number {
  return x >= 0 ? Math.exp(logErfcNonNeg(x)) : 2 - Math.exp(logErfcNonNeg(-x));
}

/** Standard normal CDF Φ(z). */
export function ndtr(z: number): number {
  return 0.5 * erfc(-z * SQRT1_2);
}

/** log Φ(z), accurate far into the lower tail. */
export function logNdtr(z: number): number {
  if (z < 0) return Math.log(0.5) + logErfcNonNeg(-z * SQRT1_2);
  return Math.log1p(-0.5 * Math.exp(logErfcNonNeg(z * SQRT1_2)));
}

/** log(1 - exp(x)) for x ≤ 0. */
function log1mexp(x: number): number {
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/** log(Φ(b) − Φ(a)) for a ≤ b, stable in both tails. */
export function logGaussMass(a: number, b: number): number {
  if (!(a < b)) return -Infinity;
  if (b <= 0) return logNdtr(b) + log1mexp(logNdtr(a) - logNdtr(b));
  if (a >= 0) return logGaussMass(-b, -a);
  // central: 1 − Φ(a) − Φ(−b), both terms ≤ 0.5
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/**
 * Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
 */
export function ndtri(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - plow) {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Draws from N(0,1) truncated to [a, b] by inverting the CDF; mirrors into the lower tail so
 * that Φ stays representable.
 */
export function sampleStdTruncNorm(a: number, b: number, u: number): number {
  if (a >= 0) return -sampleStdTruncNorm(-b, -a, 1 - u);
  const pa = ndtr(a);
  const pb = ndtr(b);
  let z = ndtri(pa + u * (pb - pa));
  if (!Number.isFinite(z)) z = u < 0.5 ? a : b;
  return Math.min(b, Math.max(a, z));
}

export function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}
