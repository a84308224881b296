// check.cu -- `gppsim-profile --check`: every op kind's forward and
// backward kernels on tiny shapes, in fp32 and bf16, against a plain CPU
// reference computed from the same (device-rounded) inputs, so a timing is
// only ever taken of kernels that compute the right thing.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels_profile/profiler/ops.cuh"

namespace {

using vec = std::vector<float>;
using gpp_prof::op_run;

struct host_run {
  vec v[gpp_prof::MAXBUF];                // every buffer, as floats
  std::vector<int> idx[gpp_prof::MAXBUF]; // index buffers
};

float from_bf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

void download(const op_run &r, host_run &h) {
  for (int i = 0; i < r.nbuf; i++) {
    std::vector<unsigned char> raw(r.bytes(i));
    cudaMemcpy(raw.data(), r.buf[i], raw.size(), cudaMemcpyDeviceToHost);
    size_t n = r.count[i];
    h.v[i].resize(n);
    if (r.init[i] == gpp_prof::INIT_INDEX) {
      h.idx[i].resize(n);
      memcpy(h.idx[i].data(), raw.data(), n * sizeof(int));
    } else if (r.esize[i] == 2) {
      for (size_t k = 0; k < n; k++) {
        uint16_t b;
        memcpy(&b, &raw[2 * k], 2);
        h.v[i][k] = from_bf16(b);
      }
    } else {
      memcpy(h.v[i].data(), raw.data(), n * sizeof(float));
    }
  }
}

// Rounds to the nearest bf16 (ties to even) when the kernels store bf16,
// so that the reference sees the intermediates the GPU stores.
float round_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) != 0x7f800000u) u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&x, &u, sizeof x);
  return x;
}

void rd(vec &v, int dt) {
  if (dt == 2)
    for (float &x : v) x = round_bf16(x);
}

// Column sums of a rows x w matrix.
vec col_sums(const float *x, int64_t rows, int64_t w) {
  vec s(w);
  for (int64_t j = 0; j < w; j++) {
    double a = 0;
    for (int64_t i = 0; i < rows; i++) a += x[i * w + j];
    s[j] = (float)a;
  }
  return s;
}

// y[i][j] += bias[j].
void add_rows(vec &y, const float *bias, int64_t w) {
  for (size_t i = 0; i < y.size(); i++) y[i] += bias[i % w];
}

// C[M,N] = op(A) op(B) (+ C when acc), row-major with the given strides.
void ref_gemm(const float *A, bool ta, const float *B, bool tb, float *C,
              int64_t M, int64_t N, int64_t K, bool acc = false) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = acc ? C[i * N + j] : 0;
      for (int64_t k = 0; k < K; k++)
        s += (double)(ta ? A[k * M + i] : A[i * K + k]) *
             (tb ? B[j * K + k] : B[k * N + j]);
      C[i * N + j] = (float)s;
    }
}

void ref_softmax_rows(const float *x, float *y, int64_t rows, int64_t w) {
  for (int64_t r = 0; r < rows; r++) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < w; j++) m = fmax(m, x[r * w + j]);
    for (int64_t j = 0; j < w; j++) s += exp(x[r * w + j] - m);
    for (int64_t j = 0; j < w; j++) y[r * w + j] = (float)(exp(x[r * w + j] - m) / s);
  }
}

void ref_softmax_bwd(const float *y, const float *dy, float *dx, int64_t rows,
                     int64_t w, float scale) {
  for (int64_t r = 0; r < rows; r++) {
    double s = 0;
    for (int64_t j = 0; j < w; j++) s += dy[r * w + j] * y[r * w + j];
    for (int64_t j = 0; j < w; j++)
      dx[r * w + j] = (float)(scale * y[r * w + j] * (dy[r * w + j] - s));
  }
}

// Expected values of the buffers a kernel writes: buffer index -> values.
struct expect {
  int buf;
  vec want;
};

// Buffers: X W Y dY dX dW [b db] (ops.cu, plan_matmul).
std::vector<expect> ref_matmul(const op_run &r, host_run &h) {
  int64_t M = r.d.rows, K = r.d.in, N = r.d.width;
  vec y(M * N), dx(M * K), dw(K * N);
  ref_gemm(h.v[0].data(), false, h.v[1].data(), false, y.data(), M, N, K);
  ref_gemm(h.v[3].data(), false, h.v[1].data(), true, dx.data(), M, K, N);
  ref_gemm(h.v[0].data(), true, h.v[3].data(), false, dw.data(), K, N, M);
  if (!r.d.bias) return {{2, y}, {4, dx}, {5, dw}};
  rd(y, r.dt);
  add_rows(y, h.v[6].data(), N);
  return {{2, y}, {4, dx}, {5, dw}, {7, col_sums(h.v[3].data(), M, N)}};
}

// Head layout of ops.cu: flat [b*t][parts*H*D] <-> [parts][b*H][t][D].
size_t flat_of(size_t e, int64_t b, int64_t t, int64_t H, int64_t D,
               int64_t parts, size_t *col) {
  int64_t d = e % D, tt = e / D % t, hh = e / (D * t) % H,
          s = e / (D * t * H) % b, p = e / (D * t * H * b);
  *col = (size_t)(p * H * D + hh * D + d);
  return (size_t)(s * t + tt) * (size_t)(parts * H * D) + *col;
}

// Multi-head self-attention with its projections; buffer numbers as the
// AT_ enum of ops.cu.
std::vector<expect> ref_attention(const op_run &r, host_run &h) {
  enum { X = 0, WQKV = 1, BQKV = 2, QKVH = 4, O = 7, WO = 9, BO = 10, Y = 11,
         DY = 12, DBO = 13, DWO = 14, DBQKV = 19, DWQKV = 20, DX = 21 };
  const int dt = r.dt;
  int64_t nb = r.b, L = r.d.t, H = r.d.heads, D = r.d.hd, W = r.d.width;
  int64_t M = r.d.rows, B = r.d.batch, hs = L * D;
  size_t mw = (size_t)(M * W);
  float sc = 1.0f / sqrtf((float)D);
  // Forward.
  vec qkv(3 * mw), heads(3 * mw), o(mw), oc(mw), y(mw);
  ref_gemm(h.v[X].data(), false, h.v[WQKV].data(), false, qkv.data(), M,
           3 * W, W);
  rd(qkv, dt);
  for (size_t e = 0; e < heads.size(); e++) {
    size_t col, i = flat_of(e, nb, L, H, D, 3, &col);
    heads[e] = qkv[i] + h.v[BQKV][col];
  }
  rd(heads, dt);
  const float *q = heads.data(), *k = q + mw, *v = k + mw;
  vec S(L * L), P(B * L * L), dP(L * L), dS(L * L);
  for (int64_t bh = 0; bh < B; bh++) {
    ref_gemm(q + bh * hs, false, k + bh * hs, true, S.data(), L, L, D);
    for (float &x : S) x *= sc;
    rd(S, dt);
    ref_softmax_rows(S.data(), &P[bh * L * L], L, L);
  }
  rd(P, dt);
  for (int64_t bh = 0; bh < B; bh++)
    ref_gemm(&P[bh * L * L], false, v + bh * hs, false, &o[bh * hs], L, D, L);
  rd(o, dt);
  for (size_t e = 0; e < mw; e++) {
    size_t col;
    oc[flat_of(e, nb, L, H, D, 1, &col)] = o[e];
  }
  ref_gemm(oc.data(), false, h.v[WO].data(), false, y.data(), M, W, W);
  rd(y, dt);
  add_rows(y, h.v[BO].data(), W);
  // Backward: output projection.
  const float *dy = h.v[DY].data();
  vec dbo = col_sums(dy, M, W), dwo(W * W), doc(mw), dO(mw);
  ref_gemm(oc.data(), true, dy, false, dwo.data(), W, W, M);
  ref_gemm(dy, false, h.v[WO].data(), true, doc.data(), M, W, W);
  rd(doc, dt);
  for (size_t e = 0; e < mw; e++) {
    size_t col;
    dO[e] = doc[flat_of(e, nb, L, H, D, 1, &col)];
  }
  // Core: dQ | dK | dV by head.
  vec dh(3 * mw);
  float *dq = dh.data(), *dk = dq + mw, *dv = dk + mw;
  for (int64_t bh = 0; bh < B; bh++) {
    const float *pb = &P[bh * L * L], *dob = &dO[bh * hs];
    ref_gemm(dob, false, v + bh * hs, true, dP.data(), L, L, D);
    rd(dP, dt);
    ref_gemm(pb, true, dob, false, &dv[bh * hs], L, D, L);
    ref_softmax_bwd(pb, dP.data(), dS.data(), L, L, sc);
    rd(dS, dt);
    ref_gemm(dS.data(), false, k + bh * hs, false, &dq[bh * hs], L, D, L);
    ref_gemm(dS.data(), true, q + bh * hs, false, &dk[bh * hs], L, D, L);
  }
  rd(dh, dt);
  // QKV projection.
  vec dqkv(3 * mw), dwqkv(W * 3 * W), dx(mw);
  for (size_t e = 0; e < dh.size(); e++) {
    size_t col;
    dqkv[flat_of(e, nb, L, H, D, 3, &col)] = dh[e];
  }
  vec dbqkv = col_sums(dqkv.data(), M, 3 * W);
  ref_gemm(h.v[X].data(), true, dqkv.data(), false, dwqkv.data(), W, 3 * W,
           M);
  ref_gemm(dqkv.data(), false, h.v[WQKV].data(), true, dx.data(), M, W,
           3 * W);
  return {{QKVH, heads}, {O, o},        {Y, y},         {DBO, dbo},
          {DWO, dwo},    {DBQKV, dbqkv}, {DWQKV, dwqkv}, {DX, dx}};
}

std::vector<expect> ref_layernorm(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width;
  const vec &x = h.v[0], &dy = h.v[2], &g = h.v[4], &be = h.v[5];
  vec y(R * W), dx(R * W), dg(W), db(W);
  for (int64_t i = 0; i < R; i++) {
    double mu = 0, var = 0, a = 0, c = 0;
    for (int64_t j = 0; j < W; j++) mu += x[i * W + j];
    mu /= W;
    for (int64_t j = 0; j < W; j++) var += pow(x[i * W + j] - mu, 2);
    double rs = 1 / sqrt(var / W + 1e-5);
    for (int64_t j = 0; j < W; j++) {
      double xh = (x[i * W + j] - mu) * rs;
      y[i * W + j] = (float)(xh * g[j] + be[j]);
      a += g[j] * dy[i * W + j];
      c += g[j] * dy[i * W + j] * xh;
      dg[j] += (float)(dy[i * W + j] * xh);
      db[j] += dy[i * W + j];
    }
    for (int64_t j = 0; j < W; j++) {
      double xh = (x[i * W + j] - mu) * rs;
      dx[i * W + j] = (float)(rs * (g[j] * dy[i * W + j] - a / W - xh * c / W));
    }
  }
  return {{1, y}, {3, dx}, {8, dg}, {9, db}};
}

std::vector<expect> ref_softmax(const op_run &r, host_run &h) {
  vec y(h.v[0].size()), dx(y.size());
  ref_softmax_rows(h.v[0].data(), y.data(), r.d.rows, r.d.width);
  ref_softmax_bwd(y.data(), h.v[2].data(), dx.data(), r.d.rows, r.d.width, 1);
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_pointwise(host_run &h, bool is_gelu) {
  const vec &x = h.v[0], &dy = h.v[2];
  vec y(x.size()), dx(x.size());
  const double k = sqrt(2 / M_PI);
  for (size_t i = 0; i < x.size(); i++) {
    double v = x[i], u = k * (v + 0.044715 * v * v * v), t = tanh(u);
    y[i] = (float)(is_gelu ? 0.5 * v * (1 + t) : fmax(v, 0));
    double grad = is_gelu ? 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k *
                                                (1 + 3 * 0.044715 * v * v)
                          : (v > 0 ? 1 : 0);
    dx[i] = (float)(dy[i] * grad);
  }
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_embedding(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width, bag = r.d.bag;
  vec out(R * W), dt(r.d.table * W);
  for (int64_t o = 0; o < R; o++)
    for (int64_t k = 0; k < bag; k++) {
      int row = h.idx[1][o * bag + k];
      for (int64_t j = 0; j < W; j++) {
        out[o * W + j] += h.v[0][row * W + j];
        dt[row * W + j] += h.v[3][o * W + j];
      }
    }
  return {{2, out}, {4, dt}};
}

std::vector<expect> ref_concat(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width, n = r.d.n, base = W / n;
  vec y(R * W), dx(R * W);
  size_t off = 0;
  for (int64_t k = 0, col = 0; k < n; k++) {
    int64_t wk = k + 1 < n ? base : W - base * (n - 1);
    for (int64_t i = 0; i < R; i++)
      for (int64_t j = 0; j < wk; j++) {
        y[i * W + col + j] = h.v[0][off + i * wk + j];
        dx[off + i * wk + j] = h.v[2][i * W + col + j];
      }
    off += (size_t)(wk * R);
    col += wk;
  }
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_elementwise(const op_run &r, host_run &h) {
  size_t n = h.v[1].size();
  vec y(n), dx(n * r.d.n);
  for (int64_t k = 0; k < r.d.n; k++)
    for (size_t i = 0; i < n; i++) {
      y[i] += h.v[0][k * n + i];
      dx[k * n + i] = h.v[2][i];
    }
  return {{1, y}, {3, dx}};
}

// Output per sample: the first feature (d), then the strictly lower
// triangle of X X^T (P); buffers X Z out dOut dZ dX.
std::vector<expect> ref_interaction(const op_run &r, host_run &h) {
  int64_t F = r.d.n, d = r.d.in, P = F * (F - 1) / 2, B = r.d.batch;
  int64_t ow = d + P;
  vec out(B * ow), dx(B * F * d), z(F * F), dz(F * F);
  for (int64_t b = 0; b < B; b++) {
    const float *x = &h.v[0][b * F * d], *dout = &h.v[3][b * ow];
    ref_gemm(x, false, x, true, z.data(), F, F, d);
    for (int64_t k = 0; k < d; k++) out[b * ow + k] = x[k];
    for (int64_t i = 0; i < F; i++)
      for (int64_t j = 0; j < F; j++) {
        int64_t at = d + i * (i - 1) / 2 + j;
        if (i > j) out[b * ow + at] = z[i * F + j];
        dz[i * F + j] = i > j ? dout[at] : 0;
      }
    ref_gemm(dz.data(), false, x, false, &dx[b * F * d], F, d, F);
    ref_gemm(dz.data(), true, x, false, &dx[b * F * d], F, d, F, true);
    for (int64_t k = 0; k < d; k++) dx[b * F * d + k] += dout[k];
  }
  return {{2, out}, {5, dx}};
}

// Sum of squared differences; buffers X target loss(fp32) dX.
std::vector<expect> ref_loss(const op_run &, host_run &h) {
  const vec &x = h.v[0], &t = h.v[1];
  vec dx(x.size()), loss(1);
  double s = 0;
  for (size_t i = 0; i < x.size(); i++) {
    double d = (double)x[i] - t[i];
    s += d * d;
    dx[i] = (float)(2 * d);
  }
  loss[0] = (float)s;
  return {{2, loss}, {3, dx}};
}

// Mean over t tokens per sample and column; buffers X Y dY dX.
std::vector<expect> ref_pool(const op_run &r, host_run &h) {
  int64_t t = r.d.t, w = r.d.width, b = r.b;
  vec y(b * w), dx(b * t * w);
  for (int64_t s = 0; s < b; s++)
    for (int64_t j = 0; j < w; j++) {
      double sum = 0;
      for (int64_t k = 0; k < t; k++) {
        sum += h.v[0][(s * t + k) * w + j];
        dx[(s * t + k) * w + j] = (float)(h.v[2][s * w + j] / (double)t);
      }
      y[s * w + j] = (float)(sum / (double)t);
    }
  return {{1, y}, {3, dx}};
}

std::vector<expect> reference(const op_run &r, host_run &h) {
  switch (r.kind) {
  case GPP_OP_MATMUL: return ref_matmul(r, h);
  case GPP_OP_ATTENTION: return ref_attention(r, h);
  case GPP_OP_LAYERNORM: return ref_layernorm(r, h);
  case GPP_OP_SOFTMAX: return ref_softmax(r, h);
  case GPP_OP_GELU: return ref_pointwise(h, true);
  case GPP_OP_RELU: return ref_pointwise(h, false);
  case GPP_OP_EMBEDDING: return ref_embedding(r, h);
  case GPP_OP_CONCAT: return ref_concat(r, h);
  case GPP_OP_ELEMENTWISE: return ref_elementwise(r, h);
  case GPP_OP_INTERACTION: return ref_interaction(r, h);
  case GPP_OP_POOL: return ref_pool(r, h);
  default: return ref_loss(r, h);
  }
}

// Number of mismatching buffers; prints the worst element of each.
int compare(const op_run &r, host_run &h, const char *label) {
  double tol = r.dt == 2 ? 4e-2 : 2e-4;
  int bad = 0;
  for (const expect &e : reference(r, h)) {
    const vec &got = h.v[e.buf];
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < got.size(); i++) {
      double d = fabs(got[i] - e.want[i]) / (1 + fabs(e.want[i]));
      if (!(d <= worst)) { worst = d; at = i; }
    }
    bool ok = worst <= tol;
    bad += !ok;
    printf("check %-24s buffer %d: %s (worst %.2e at %zu: got %g, want %g)\n",
           label, e.buf, ok ? "ok" : "MISMATCH", worst, at,
           got.empty() ? 0.0 : got[at], e.want.empty() ? 0.0 : e.want[at]);
  }
  return bad;
}

gpp_op tiny(gpp_op_kind kind, int64_t t, int64_t w, int64_t in, int64_t h,
            int64_t rows, int64_t bag, uint32_t n_inputs,
            const char *name = nullptr) {
  gpp_op op;
  memset(&op, 0, sizeof op);
  op.name = name ? name : gpp_signature_kind_name(kind);
  op.kind = kind;
  op.shape = {t, w, in, h, rows, bag, 0};
  op.n_inputs = n_inputs;
  return op;
}

// A matmul with a bias (the parameter count says so, as the model's does).
gpp_op tiny_biased_matmul(int64_t t, int64_t w, int64_t in) {
  gpp_op op = tiny(GPP_OP_MATMUL, t, w, in, 0, 0, 0, 1, "matmul+bias");
  op.param_count = (double)(in * w + w);
  return op;
}

int check_op(cublasHandle_t blas, cudaStream_t stream, gpp_op op, int dt,
             int64_t b) {
  op.dtype_bytes = dt;
  op_run r;
  char label[64];
  snprintf(label, sizeof label, "%s %s", op.name, dt == 2 ? "bf16" : "fp32");
  if (!gpp_prof::plan_op(&op, b, r)) {
    printf("check %-24s: NOT PLANNED\n", label);
    return 1;
  }
  r.blas = blas;
  r.stream = stream;
  gpp_prof::alloc_run(r, 77u);
  gpp_prof::run_fwd(r);
  gpp_prof::run_bwd(r);
  r.cuda(cudaStreamSynchronize(stream));
  int bad = 0;
  if (!r.ok()) {
    printf("check %-24s: GPU FAILURE (%s / cuBLAS %d)\n", label,
           cudaGetErrorString(r.cerr), (int)r.berr);
    bad = 1;
  } else {
    host_run h;
    download(r, h);
    bad = compare(r, h, label);
  }
  gpp_prof::free_run(r);
  return bad;
}

// A pool over t tokens of w columns (one token out, as the model gives).
gpp_op tiny_pool(int64_t t, int64_t w) {
  gpp_op op = tiny(GPP_OP_POOL, 1, w, 0, 0, 0, 0, 1);
  op.shape.in_tokens = t;
  return op;
}
}  // namespace

extern "C" int gpp__prof_self_check(gpp_errctx *err) {
  // Shapes as sim/model/model_derive.c gives them (tokens x width out per
  // sample; attention: heads and in_width = width; interaction: heads = F
  // inputs of in_width = d, width d + F(F-1)/2; loss: in_width elements).
  const gpp_op ops[] = {
      tiny(GPP_OP_MATMUL, 3, 7, 5, 0, 0, 0, 1),
      tiny_biased_matmul(3, 7, 5),
      tiny(GPP_OP_ATTENTION, 4, 6, 6, 2, 0, 0, 1),
      tiny(GPP_OP_ATTENTION, 5, 8, 8, 4, 0, 0, 1, "attention/4"),
      tiny(GPP_OP_LAYERNORM, 3, 37, 0, 0, 0, 0, 1),
      tiny(GPP_OP_SOFTMAX, 3, 300, 0, 0, 0, 0, 1),
      tiny(GPP_OP_GELU, 3, 50, 0, 0, 0, 0, 1),
      tiny(GPP_OP_RELU, 3, 50, 0, 0, 0, 0, 1),
      tiny(GPP_OP_EMBEDDING, 1, 9, 0, 0, 11, 3, 1),
      tiny(GPP_OP_EMBEDDING, 2, 9, 0, 0, 11, 3, 1, "embedding/t2"),
      tiny(GPP_OP_CONCAT, 3, 10, 0, 0, 0, 0, 3),
      tiny(GPP_OP_ELEMENTWISE, 3, 9, 0, 0, 0, 0, 3),
      tiny(GPP_OP_INTERACTION, 1, 5 + 6, 5, 4, 0, 0, 4),
      tiny(GPP_OP_LOSS, 1, 1, 10, 0, 0, 0, 1),
      tiny_pool(6, 13),
  };
  cudaStream_t stream;
  cublasHandle_t blas;
  if (cudaStreamCreate(&stream) != cudaSuccess)
    GPP_RAISE(err, GPP_EINTERNAL, "CUDA stream creation failed");
  if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    GPP_RAISE(err, GPP_EINTERNAL, "cuBLAS initialisation failed");
  }
  cublasSetStream(blas, stream);
  int bad = 0;
  for (const gpp_op &op : ops)
    for (int dt : {4, 2}) bad += check_op(blas, stream, op, dt, 3);
  cublasDestroy(blas);
  cudaStreamDestroy(stream);
  return bad;
}
