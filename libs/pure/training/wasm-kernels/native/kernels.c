// SIMD kernels for the tfjs wasm backend's training step, compiled to a tiny standalone wasm module that
// IMPORTS the backend's own memory (see ../native.ts), so they read and write tensors in place on its heap.
//
// Rules that make sharing the heap safe: no static data (no data segment to clobber the backend's), no libc,
// and no shadow stack (everything fits in locals; build.sh checks the module has no data section and never
// touches __stack_pointer). Scratch space comes from the caller, allocated on the backend's heap.
//
// Build: ./build.sh (clang + wasm-ld with the wasm32 target, -msimd128).
#include <wasm_simd128.h>

typedef float f32;

// ---------------------------------------------------------------------------------------------------------
// im2col for NHWC x over output pixels [p0, p1): cols[(p - p0) * Rp + (kh*KW + kw)*Cin + ci], zero outside
// the image and in the padding columns R..Rp-1.
static void im2col_rows(const f32 *x, f32 *cols, int p0, int p1, int Rp, int H, int W, int Cin, int OH, int OW,
                        int KH, int KW, int sH, int sW, int dH, int dW, int padT, int padL) {
  const int R = KH * KW * Cin;
  int n = p0 / (OH * OW);
  int rem = p0 - n * OH * OW;
  int oh = rem / OW;
  int ow = rem - oh * OW;
  for (int p = p0; p < p1; p++) {
    f32 *dst = cols + (p - p0) * Rp;
    const int ihFirst = oh * sH - padT, iwFirst = ow * sW - padL;
    if (ihFirst >= 0 && ihFirst + (KH - 1) * dH < H && iwFirst >= 0 && iwFirst + (KW - 1) * dW < W) {
      // Window fully inside the image (most pixels): no bounds checks.
      const f32 *base = x + ((n * H + ihFirst) * W + iwFirst) * Cin;
      if (Cin == 1) {
        for (int kh = 0; kh < KH; kh++)
          for (int kw = 0; kw < KW; kw++) dst[kh * KW + kw] = base[(kh * dH * W + kw * dW)];
      } else {
        for (int kh = 0; kh < KH; kh++)
          for (int kw = 0; kw < KW; kw++) {
            const f32 *s = base + (kh * dH * W + kw * dW) * Cin;
            f32 *d = dst + (kh * KW + kw) * Cin;
            int c = 0;
            for (; c + 4 <= Cin; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
            for (; c < Cin; c++) d[c] = s[c];
          }
      }
    } else {
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * sH + kh * dH - padT;
      for (int kw = 0; kw < KW; kw++) {
        const int iw = ow * sW + kw * dW - padL;
        f32 *d = dst + (kh * KW + kw) * Cin;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
          for (int c = 0; c < Cin; c++) d[c] = 0.0f;
        } else {
          const f32 *s = x + ((n * H + ih) * W + iw) * Cin;
          for (int c = 0; c < Cin; c++) d[c] = s[c];
        }
      }
    }
    }
    for (int r = R; r < Rp; r++) dst[r] = 0.0f;
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

// C[Rp][Cout] += A[P][Rp]^T @ B[P][Cout]. Rp % 4 == 0. Register tile: 4 rows of C x 8 (or 4) columns.
static void gemm_atb_acc(const f32 *A, int Rp, const f32 *B, int Cout, int P, f32 *C) {
  for (int r = 0; r < Rp; r += 4) {
    int co = 0;
    for (; co + 8 <= Cout; co += 8) {
      f32 *c0 = C + r * Cout + co;
      v128_t c00 = wasm_v128_load(c0), c01 = wasm_v128_load(c0 + 4);
      v128_t c10 = wasm_v128_load(c0 + Cout), c11 = wasm_v128_load(c0 + Cout + 4);
      v128_t c20 = wasm_v128_load(c0 + 2 * Cout), c21 = wasm_v128_load(c0 + 2 * Cout + 4);
      v128_t c30 = wasm_v128_load(c0 + 3 * Cout), c31 = wasm_v128_load(c0 + 3 * Cout + 4);
      const f32 *a = A + r;
      const f32 *b = B + co;
      for (int p = 0; p < P; p++, a += Rp, b += Cout) {
        const v128_t av = wasm_v128_load(a);
        const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
        v128_t s = wasm_i32x4_shuffle(av, av, 0, 0, 0, 0);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(s, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(s, b1));
        s = wasm_i32x4_shuffle(av, av, 1, 1, 1, 1);
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(s, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(s, b1));
        s = wasm_i32x4_shuffle(av, av, 2, 2, 2, 2);
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(s, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(s, b1));
        s = wasm_i32x4_shuffle(av, av, 3, 3, 3, 3);
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(s, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(s, b1));
      }
      wasm_v128_store(c0, c00), wasm_v128_store(c0 + 4, c01);
      wasm_v128_store(c0 + Cout, c10), wasm_v128_store(c0 + Cout + 4, c11);
      wasm_v128_store(c0 + 2 * Cout, c20), wasm_v128_store(c0 + 2 * Cout + 4, c21);
      wasm_v128_store(c0 + 3 * Cout, c30), wasm_v128_store(c0 + 3 * Cout + 4, c31);
    }
    for (; co + 4 <= Cout; co += 4) {
      f32 *c0 = C + r * Cout + co;
      v128_t c00 = wasm_v128_load(c0), c10 = wasm_v128_load(c0 + Cout);
      v128_t c20 = wasm_v128_load(c0 + 2 * Cout), c30 = wasm_v128_load(c0 + 3 * Cout);
      const f32 *a = A + r;
      const f32 *b = B + co;
      for (int p = 0; p < P; p++, a += Rp, b += Cout) {
        const v128_t av = wasm_v128_load(a);
        const v128_t b0 = wasm_v128_load(b);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(wasm_i32x4_shuffle(av, av, 0, 0, 0, 0), b0));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(wasm_i32x4_shuffle(av, av, 1, 1, 1, 1), b0));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(wasm_i32x4_shuffle(av, av, 2, 2, 2, 2), b0));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(wasm_i32x4_shuffle(av, av, 3, 3, 3, 3), b0));
      }
      wasm_v128_store(c0, c00), wasm_v128_store(c0 + Cout, c10);
      wasm_v128_store(c0 + 2 * Cout, c20), wasm_v128_store(c0 + 3 * Cout, c30);
    }
    for (; co < Cout; co++) {
      f32 s0 = C[r * Cout + co], s1 = C[(r + 1) * Cout + co], s2 = C[(r + 2) * Cout + co], s3 = C[(r + 3) * Cout + co];
      const f32 *a = A + r;
      const f32 *b = B + co;
      for (int p = 0; p < P; p++, a += Rp, b += Cout) {
        const f32 bv = *b;
        s0 += a[0] * bv, s1 += a[1] * bv, s2 += a[2] * bv, s3 += a[3] * bv;
      }
      C[r * Cout + co] = s0, C[(r + 1) * Cout + co] = s1, C[(r + 2) * Cout + co] = s2, C[(r + 3) * Cout + co] = s3;
    }
  }
}

// dW[KH][KW][Cin][Cout] = sum over output pixels of x-patch (outer) dy, for NHWC x [N,H,W,Cin] and dy
// [N,OH,OW,Cout]. Pixels go in chunks so the im2col rows of a chunk stay in cache while every tile of dW is
// accumulated. _part: the sum over pixels [pBegin, pEnd) only, into acc (Rp*Cout floats, Rp = R rounded up
// to 4, R = KH*KW*Cin), for splitting the pixels across threads. scratch: chunk*Rp floats.
static void conv2d_backprop_filter_part(const f32 *x, const f32 *dy, f32 *acc, f32 *scratch, int chunk, int pBegin,
    int pEnd,
                                 int N, int H, int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW,
                                 int dH, int dW, int padT, int padL) {
  (void)N;
  const int R = KH * KW * Cin;
  const int Rp = (R + 3) & ~3;
  for (int i = 0; i < Rp * Cout; i++) acc[i] = 0.0f;
  for (int p0 = pBegin; p0 < pEnd; p0 += chunk) {
    const int p1 = p0 + chunk < pEnd ? p0 + chunk : pEnd;
    im2col_rows(x, scratch, p0, p1, Rp, H, W, Cin, OH, OW, KH, KW, sH, sW, dH, dW, padT, padL);
    gemm_atb_acc(scratch, Rp, dy + p0 * Cout, Cout, p1 - p0, acc);
  }
}

// out[i] = sum of the `parts` arrays (each n floats, consecutive at stride `stride`): the threads' partial dW.
__attribute__((export_name("sum_parts")))
void sum_parts(const f32 *parts, int stride, int count, f32 *out, int n) {
  for (int i = 0; i < n; i++) {
    f32 s = parts[i];
    for (int k = 1; k < count; k++) s += parts[k * stride + i];
    out[i] = s;
  }
}

// Pixel range of block b of nblocks (dW is summed per block, then the blocks in order: the same float
// operations in the same order whatever thread computes which block, so results are deterministic and equal
// on one thread and on the pool).
static int block_begin(int P, int b, int nblocks) { return (int)(((long long)P * b) / nblocks); }

// Whole-batch dW on one thread: accs holds nblocks*Rp*Cout floats.
__attribute__((export_name("conv2d_backprop_filter_nhwc")))
void conv2d_backprop_filter_nhwc(const f32 *x, const f32 *dy, f32 *dw, f32 *accs, int nblocks, f32 *scratch, int chunk,
                                 int N, int H, int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW,
                                 int dH, int dW, int padT, int padL) {
  const int R = KH * KW * Cin;
  const int Rp = (R + 3) & ~3;
  const int P = N * OH * OW;
  for (int b = 0; b < nblocks; b++)
    conv2d_backprop_filter_part(x, dy, accs + b * Rp * Cout, scratch, chunk, block_begin(P, b, nblocks),
                                block_begin(P, b + 1, nblocks), N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW,
                                padT, padL);
  sum_parts(accs, Rp * Cout, nblocks, dw, R * Cout);
}

// ---------------------------------------------------------------------------------------------------------
// MaxPoolGrad, NHWC: dx[first max of each window] += dy. Matches the cpu backend's choice (the first element
// that is strictly greater than all before it, scanning kh then kw; a window of only -Infinity or NaN gets
// nothing). Four channels at a time with SIMD compares and selects.
__attribute__((export_name("max_pool_grad_nhwc")))
void max_pool_grad_nhwc(const f32 *x, const f32 *dy, f32 *dx, int N, int H, int W, int C, int OH, int OW, int KH,
                        int KW, int sH, int sW, int dH, int dW, int padT, int padL) {
  const int total = N * H * W * C;
  if (KH == sH && KW == sW && dH == 1 && dW == 1 && padT == 0 && padL == 0 && (C & 3) == 0 && KH * KW <= 16) {
    // Non-overlapping windows (the usual 2x2/2 pool): every dx element belongs to at most one window, so each is
    // written once, as dy or 0, with vector selects; only elements outside every window need zeroing first.
    if (OH * KH != H || OW * KW != W)
      for (int i = 0; i < total; i++) dx[i] = 0.0f;
    const v128_t ninf = wasm_f32x4_splat(-__builtin_inff()), zero = wasm_f32x4_splat(0.0f);
    for (int n = 0; n < N; n++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          const int base = ((n * H + oh * KH) * W + ow * KW) * C;
          const f32 *dyp = dy + ((n * OH + oh) * OW + ow) * C;
          for (int c = 0; c < C; c += 4) {
            v128_t best = ninf, win = wasm_i32x4_splat(-1);
            int k = 0;
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++, k++) {
                const v128_t v = wasm_v128_load(x + base + (kh * W + kw) * C + c);
                const v128_t gt = wasm_f32x4_gt(v, best);
                best = wasm_v128_bitselect(v, best, gt);
                win = wasm_v128_bitselect(wasm_i32x4_splat(k), win, gt);
              }
            const v128_t g = wasm_v128_load(dyp + c);
            k = 0;
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++, k++)
                wasm_v128_store(dx + base + (kh * W + kw) * C + c,
                                wasm_v128_bitselect(g, zero, wasm_i32x4_eq(win, wasm_i32x4_splat(k))));
          }
        }
    return;
  }
  for (int i = 0; i < total; i++) dx[i] = 0.0f;
  const v128_t ninf = wasm_f32x4_splat(-__builtin_inff());
  const v128_t none = wasm_i32x4_splat(-1);
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      const int ih0 = oh * sH - padT;
      for (int ow = 0; ow < OW; ow++) {
        const int iw0 = ow * sW - padL;
        const f32 *dyp = dy + ((n * OH + oh) * OW + ow) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t best = ninf;
          v128_t bestIdx = none;
          for (int kh = 0; kh < KH; kh++) {
            const int ih = ih0 + kh * dH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
              const int iw = iw0 + kw * dW;
              if (iw < 0 || iw >= W) continue;
              const int off = ((n * H + ih) * W + iw) * C + c;
              const v128_t v = wasm_v128_load(x + off);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              bestIdx = wasm_v128_bitselect(wasm_i32x4_splat(off), bestIdx, gt);
            }
          }
          const v128_t g = wasm_v128_load(dyp + c);
          // Lanes hold the offset of the channel group's start; the lane number gives the element's own.
          const int32_t m0 = wasm_i32x4_extract_lane(bestIdx, 0), m1 = wasm_i32x4_extract_lane(bestIdx, 1);
          const int32_t m2 = wasm_i32x4_extract_lane(bestIdx, 2), m3 = wasm_i32x4_extract_lane(bestIdx, 3);
          if (m0 >= 0) dx[m0] += wasm_f32x4_extract_lane(g, 0);
          if (m1 >= 0) dx[m1 + 1] += wasm_f32x4_extract_lane(g, 1);
          if (m2 >= 0) dx[m2 + 2] += wasm_f32x4_extract_lane(g, 2);
          if (m3 >= 0) dx[m3 + 3] += wasm_f32x4_extract_lane(g, 3);
        }
        for (; c < C; c++) {
          f32 best = -__builtin_inff();
          int bestIdx = -1;
          for (int kh = 0; kh < KH; kh++) {
            const int ih = ih0 + kh * dH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
              const int iw = iw0 + kw * dW;
              if (iw < 0 || iw >= W) continue;
              const int off = ((n * H + ih) * W + iw) * C + c;
              if (x[off] > best) best = x[off], bestIdx = off;
            }
          }
          if (bestIdx >= 0) dx[bestIdx] += dyp[c];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// One Adam step for one variable, in a single pass (tfjs's AdamOptimizer runs ~14 element-wise kernels for
// it). Same float32 operations in the same order as tfjs-core's adam_optimizer.js, so results match it:
//   m' = m*beta1 + g*(1-beta1);  v' = v*beta2 + (g*g)*(1-beta2)
//   value' = ((m'/(1-accBeta1)) / (sqrt(v'/(1-accBeta2)) + eps)) * (-lr) + value
__attribute__((export_name("adam_update")))
void adam_update(const f32 *value, const f32 *grad, const f32 *m, const f32 *v, f32 *outValue, f32 *outM, f32 *outV,
                 int n, f32 beta1, f32 oneMinusBeta1, f32 beta2, f32 oneMinusBeta2, f32 oneMinusAccBeta1,
                 f32 oneMinusAccBeta2, f32 epsilon, f32 negLr) {
  const v128_t b1 = wasm_f32x4_splat(beta1), ob1 = wasm_f32x4_splat(oneMinusBeta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), ob2 = wasm_f32x4_splat(oneMinusBeta2);
  const v128_t c1 = wasm_f32x4_splat(oneMinusAccBeta1), c2 = wasm_f32x4_splat(oneMinusAccBeta2);
  const v128_t eps = wasm_f32x4_splat(epsilon), nlr = wasm_f32x4_splat(negLr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t g = wasm_v128_load(grad + i);
    const v128_t mn = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1), wasm_f32x4_mul(g, ob1));
    const v128_t vn = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(g, g),
        ob2));
    const v128_t mh = wasm_f32x4_div(mn, c1);
    const v128_t vh = wasm_f32x4_div(vn, c2);
    const v128_t step = wasm_f32x4_mul(wasm_f32x4_div(mh, wasm_f32x4_add(wasm_f32x4_sqrt(vh), eps)), nlr);
    wasm_v128_store(outM + i, mn);
    wasm_v128_store(outV + i, vn);
    wasm_v128_store(outValue + i, wasm_f32x4_add(step, wasm_v128_load(value + i)));
  }
  for (; i < n; i++) {
    const f32 g = grad[i];
    const f32 mn = m[i] * beta1 + g * oneMinusBeta1;
    const f32 vn = v[i] * beta2 + (g * g) * oneMinusBeta2;
    outM[i] = mn;
    outV[i] = vn;
    outValue[i] = ((mn / oneMinusAccBeta1) / (__builtin_sqrtf(vn / oneMinusAccBeta2) + epsilon)) * negLr + value[i];
  }
}

// ---------------------------------------------------------------------------------------------------------
// out[r][c] = a[r][c] + bias[c] (a conv/dense layer's bias add, broadcast over the leading axes).
__attribute__((export_name("add_bias_rows")))
void add_bias_rows(const f32 *a, const f32 *bias, f32 *out, int rows, int cols) {
  for (int r = 0; r < rows; r++, a += cols, out += cols) {
    int c = 0;
    for (; c + 4 <= cols; c += 4) wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(a + c),
        wasm_v128_load(bias + c)));
    for (; c < cols; c++) out[c] = a[c] + bias[c];
  }
}

// out[c] = sum over r of x[r][c] (a bias gradient: Sum over the leading axes). Blocks of 64 rows are summed in
// float32 SIMD, then added into float64 totals, so long columns keep the precision of a float64 sum.
// scratch: 3 * cols floats (cols float32 block sums, then cols float64 totals, 8-byte aligned by the caller).
__attribute__((export_name("sum_rows")))
void sum_rows(const f32 *x, f32 *out, int rows, int cols, f32 *scratch) {
  f32 *blk = scratch;
  double *tot = (double *)(scratch + cols + (cols & 1));
  for (int c = 0; c < cols; c++) tot[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += 64) {
    const int r1 = r0 + 64 < rows ? r0 + 64 : rows;
    for (int c = 0; c < cols; c++) blk[c] = 0.0f;
    for (int r = r0; r < r1; r++) {
      const f32 *row = x + (long)r * cols;
      int c = 0;
      for (; c + 4 <= cols; c += 4) wasm_v128_store(blk + c, wasm_f32x4_add(wasm_v128_load(blk + c),
          wasm_v128_load(row + c)));
      for (; c < cols; c++) blk[c] += row[c];
    }
    for (int c = 0; c < cols; c++) tot[c] += (double)blk[c];
  }
  for (int c = 0; c < cols; c++) out[c] = (f32)tot[c];
}

// ---------------------------------------------------------------------------------------------------------
// Relu's gradient, dx = dy * step(x), in one pass (tfjs runs Step, Cast and Multiply). step(x) is 1 for x > 0,
// NaN for NaN and 0 otherwise, exactly as tfjs's step, so NaN and Infinity propagate the same way.
__attribute__((export_name("relu_grad")))
void relu_grad(const f32 *dy, const f32 *x, f32 *dx, int n) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t xv = wasm_v128_load(x + i);
    v128_t s = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(xv, zero));
    s = wasm_v128_bitselect(xv, s, wasm_f32x4_ne(xv, xv));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), s));
  }
  for (; i < n; i++) {
    const f32 xv = x[i];
    const f32 s = xv > 0.0f ? 1.0f : (xv != xv ? xv : 0.0f);
    dx[i] = dy[i] * s;
  }
}

// C[M][N] = A[M][K] @ B[K][N] (row strides lda, ldb, ldc). Register tile: 4 rows x 8 columns.
static void gemm_ab(const f32 *A, int lda, const f32 *B, int ldb, f32 *C, int ldc, int M, int N, int K) {
  int m = 0;
  for (; m + 4 <= M; m += 4) {
    const f32 *a0 = A + m * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    f32 *c0 = C + m * ldc;
    int n = 0;
    for (; n + 8 <= N; n += 8) {
      v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      const f32 *b = B + n;
      for (int k = 0; k < K; k++, b += ldb) {
        const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
        v128_t a = wasm_v128_load32_splat(a0 + k);
        s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(a, b0)), s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(a, b1));
        a = wasm_v128_load32_splat(a1 + k);
        s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(a, b0)), s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(a, b1));
        a = wasm_v128_load32_splat(a2 + k);
        s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(a, b0)), s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(a, b1));
        a = wasm_v128_load32_splat(a3 + k);
        s30 = wasm_f32x4_add(s30, wasm_f32x4_mul(a, b0)), s31 = wasm_f32x4_add(s31, wasm_f32x4_mul(a, b1));
      }
      f32 *c = c0 + n;
      wasm_v128_store(c, s00), wasm_v128_store(c + 4, s01), c += ldc;
      wasm_v128_store(c, s10), wasm_v128_store(c + 4, s11), c += ldc;
      wasm_v128_store(c, s20), wasm_v128_store(c + 4, s21), c += ldc;
      wasm_v128_store(c, s30), wasm_v128_store(c + 4, s31);
    }
    for (; n + 4 <= N; n += 4) {
      v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      const f32 *b = B + n;
      for (int k = 0; k < K; k++, b += ldb) {
        const v128_t b0 = wasm_v128_load(b);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load32_splat(a0 + k), b0));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load32_splat(a1 + k), b0));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load32_splat(a2 + k), b0));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load32_splat(a3 + k), b0));
      }
      f32 *c = c0 + n;
      wasm_v128_store(c, s0), wasm_v128_store(c + ldc, s1), wasm_v128_store(c + 2 * ldc, s2),
          wasm_v128_store(c + 3 * ldc, s3);
    }
    for (; n < N; n++) {
      f32 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      for (int k = 0; k < K; k++) {
        const f32 bv = B[k * ldb + n];
        s0 += a0[k] * bv, s1 += a1[k] * bv, s2 += a2[k] * bv, s3 += a3[k] * bv;
      }
      c0[n] = s0, c0[ldc + n] = s1, c0[2 * ldc + n] = s2, c0[3 * ldc + n] = s3;
    }
  }
  for (; m < M; m++) {
    const f32 *a = A + m * lda;
    f32 *c = C + m * ldc;
    int n = 0;
    for (; n + 4 <= N; n += 4) {
      v128_t s = wasm_f32x4_splat(0.0f);
      for (int k = 0; k < K; k++) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load32_splat(a + k),
          wasm_v128_load(B + k * ldb + n)));
      wasm_v128_store(c + n, s);
    }
    for (; n < N; n++) {
      f32 s = 0.0f;
      for (int k = 0; k < K; k++) s += a[k] * B[k * ldb + n];
      c[n] = s;
    }
  }
}

// C[b] = A[b] @ B[b] for `batch` row-major [M,K] @ [K,N] products: attention's per-head matmuls (q·kᵀ, p·v and
// their gradients), which tfjs's wasm BatchMatMul runs on a scalar loop once there is more than one batch.
__attribute__((export_name("batch_matmul")))
void batch_matmul(const f32 *A, const f32 *B, f32 *C, int batch, int M, int K, int N) {
  for (int b = 0; b < batch; b++) gemm_ab(A + b * M * K, K, B + b * K * N, N, C + b * M * N, N, M, N, K);
}

// wt[co][r] = w[r][co]: the [KH,KW,Cin,Cout] filter as [Cout][R] for the backprop-input GEMM.
__attribute__((export_name("transpose_filter")))
void transpose_filter(const f32 *w, f32 *wt, int R, int Cout) {
  for (int r = 0; r < R; r++)
    for (int co = 0; co < Cout; co++) wt[co * R + r] = w[r * Cout + co];
}

// Conv2DBackpropInput, NHWC: dx = col2im(dy[P][Cout] @ wt[Cout][R]) for images [nBegin, nEnd) (their dx
// regions are disjoint, so threads can take different images). dcols: chunk*R floats of scratch.
static void conv2d_backprop_input_part(const f32 *dy, const f32 *wt, f32 *dx, f32 *dcols, int chunk, int nBegin,
    int nEnd,
                                int N, int H, int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW,
                                int dH, int dW, int padT, int padL) {
  (void)N;
  const int R = KH * KW * Cin;
  const int imageSize = H * W * Cin;
  for (int i = nBegin * imageSize; i < nEnd * imageSize; i++) dx[i] = 0.0f;
  const int pEnd = nEnd * OH * OW;
  for (int p0 = nBegin * OH * OW; p0 < pEnd; p0 += chunk) {
    const int p1 = p0 + chunk < pEnd ? p0 + chunk : pEnd;
    gemm_ab(dy + p0 * Cout, Cout, wt, R, dcols, R, p1 - p0, R, Cout);
    int n = p0 / (OH * OW);
    int rem = p0 - n * OH * OW;
    int oh = rem / OW;
    int ow = rem - oh * OW;
    for (int p = p0; p < p1; p++) {
      const f32 *src = dcols + (p - p0) * R;
      for (int kh = 0; kh < KH; kh++) {
        const int ih = oh * sH + kh * dH - padT;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; kw++) {
          const int iw = ow * sW + kw * dW - padL;
          if (iw < 0 || iw >= W) continue;
          f32 *d = dx + ((n * H + ih) * W + iw) * Cin;
          const f32 *s = src + (kh * KW + kw) * Cin;
          int c = 0;
          for (; c + 4 <= Cin; c += 4) wasm_v128_store(d + c, wasm_f32x4_add(wasm_v128_load(d + c),
              wasm_v128_load(s + c)));
          for (; c < Cin; c++) d[c] += s[c];
        }
      }
      if (++ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          n++;
        }
      }
    }
  }
}

// Whole-batch Conv2DBackpropInput on one thread. Scratch: wt (Cout*R floats) and dcols (chunk*R floats).
__attribute__((export_name("conv2d_backprop_input_nhwc")))
void conv2d_backprop_input_nhwc(const f32 *dy, const f32 *w, f32 *dx, f32 *wt, f32 *dcols, int chunk, int N, int H,
                                int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW, int dH,
                                    int dW,
                                int padT, int padL) {
  transpose_filter(w, wt, KH * KW * Cin, Cout);
  conv2d_backprop_input_part(dy, wt, dx, dcols, chunk, 0, N, N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW, padT,
                             padL);
}

// ---------------------------------------------------------------------------------------------------------
// Conv2D, NHWC: out[P][Cout] = im2col(x)[P][R] @ W[R][Cout] for output pixels [pBegin, pEnd), per L1-sized
// chunk of pixels. scratch: chunk*Rp floats (Rp = R rounded up to 4).
static void conv2d_nhwc_part(const f32 *x, const f32 *w, f32 *out, f32 *scratch, int chunk, int pBegin, int pEnd,
    int N, int H,
                      int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW, int dH, int dW,
                          int padT,
                      int padL) {
  (void)N;
  const int R = KH * KW * Cin;
  const int Rp = (R + 3) & ~3;
  for (int p0 = pBegin; p0 < pEnd; p0 += chunk) {
    const int p1 = p0 + chunk < pEnd ? p0 + chunk : pEnd;
    im2col_rows(x, scratch, p0, p1, Rp, H, W, Cin, OH, OW, KH, KW, sH, sW, dH, dW, padT, padL);
    gemm_ab(scratch, Rp, w, Cout, out + p0 * Cout, Cout, p1 - p0, Cout, R);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Dynamically scheduled versions for the thread pool (shared build only): every thread takes the next chunk of
// work from a shared counter until none is left, so a slower thread (a vCPU the host is also running
// something on) takes fewer chunks instead of holding the others up.
#ifdef __wasm_atomics__
static int next_work(int *counter, int amount) { return __atomic_fetch_add(counter, amount, __ATOMIC_RELAXED); }

// dW of the pixel blocks this thread takes, each into its own acc (accs: nblocks*Rp*Cout floats).
__attribute__((export_name("conv2d_backprop_filter_dyn")))
void conv2d_backprop_filter_dyn(const f32 *x, const f32 *dy, f32 *accs, int nblocks, f32 *scratch, int chunk,
                                int *counter, int N, int H, int W, int Cin, int OH, int OW, int Cout, int KH, int KW,
                                int sH, int sW, int dH, int dW, int padT, int padL) {
  const int R = KH * KW * Cin;
  const int Rp = (R + 3) & ~3;
  const int P = N * OH * OW;
  for (int b = next_work(counter, 1); b < nblocks; b = next_work(counter, 1))
    conv2d_backprop_filter_part(x, dy, accs + b * Rp * Cout, scratch, chunk, block_begin(P, b, nblocks),
                                block_begin(P, b + 1, nblocks), N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW,
                                padT, padL);
}

// dx for the images this thread takes, one at a time.
__attribute__((export_name("conv2d_backprop_input_dyn")))
void conv2d_backprop_input_dyn(const f32 *dy, const f32 *wt, f32 *dx, f32 *dcols, int chunk, int *counter, int N, int H,
                               int W, int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW, int dH, int dW,
                               int padT, int padL) {
  for (int n = next_work(counter, 1); n < N; n = next_work(counter, 1))
    conv2d_backprop_input_part(dy, wt, dx, dcols, chunk, n, n + 1, N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW,
                               padT, padL);
}

// Conv2D output rows for the pixel chunks this thread takes.
__attribute__((export_name("conv2d_nhwc_dyn")))
void conv2d_nhwc_dyn(const f32 *x, const f32 *w, f32 *out, f32 *scratch, int chunk, int *counter, int N, int H, int W,
                     int Cin, int OH, int OW, int Cout, int KH, int KW, int sH, int sW, int dH, int dW, int padT,
                     int padL) {
  const int P = N * OH * OW;
  for (int p0 = next_work(counter, chunk); p0 < P; p0 = next_work(counter, chunk)) {
    const int p1 = p0 + chunk < P ? p0 + chunk : P;
    conv2d_nhwc_part(x, w, out, scratch, chunk, p0, p1, N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW, padT, padL);
  }
}
#endif

// ---------------------------------------------------------------------------------------------------------
// ClipByValue's gradient, dx = (lo <= x <= hi) ? dy : 0, in one pass (tfjs runs GreaterEqual, LessEqual,
// LogicalAnd, ZerosLike and Select; LSTM/GRU gates' hardSigmoid calls it once per gate per timestep).
__attribute__((export_name("clip_grad")))
void clip_grad(const f32 *dy, const f32 *x, f32 *dx, int n, f32 lo, f32 hi) {
  const v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi), zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t xv = wasm_v128_load(x + i);
    const v128_t in = wasm_v128_and(wasm_f32x4_ge(xv, vlo), wasm_f32x4_le(xv, vhi));
    wasm_v128_store(dx + i, wasm_v128_bitselect(wasm_v128_load(dy + i), zero, in));
  }
  for (; i < n; i++) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
}
