// Scalar reference for the elementwise entries of the kernel table. Formulas follow ggml's CPU
// ops (rms_norm sums float squares in double, softmax sums exps in double) so results match
// llama.cpp to rounding.
#include <algorithm>
#include <cmath>

#include "core/fp16.h"
#include "kernels/reference/reference.h"

namespace hearth::kernels::reference {
namespace {

// ggml accumulates the sum of squares in ggml_float (double), then scale = 1/sqrt(mean + eps).
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i] * x[i]);
  const float mean = float(sum / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void swiglu(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void axpy(float* y, float a, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void attn_softmax(float* s, int64_t n, float scale, float sink) {
  float mx = sink;
  for (int64_t j = 0; j < n; ++j) {
    s[j] *= scale;
    mx = std::max(mx, s[j]);
  }
  double sum = sink == -INFINITY ? 0.0 : std::exp(double(sink - mx));
  for (int64_t j = 0; j < n; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  const float inv = float(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) s[j] = f16_to_f32(f32_to_f16(s[j] * inv));
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_f16(x[i]);
}
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f16_to_f32(x[i]);
}
float dot_f32_f16(const float* x, const uint16_t* y, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(f16_to_f32(y[i]));
  return float(s);
}
void axpy_f16(float* y, float a, const uint16_t* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * f16_to_f32(x[i]);
}

// Scores in double (as dot_f32_f16); P·V accumulates in f32 key by key (as axpy_f16).
void attn_scores_f16(const float* q, int64_t ldq, int64_t rows, const uint16_t* const* k,
                     int64_t nk, int64_t n, float* s, int64_t lds) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < nk; ++j) s[r * lds + j] = dot_f32_f16(q + r * ldq, k[j], n);
}
void attn_pv_f16(const float* p, int64_t ldp, int64_t rows, const uint16_t* const* v, int64_t nk,
                 int64_t n, float* const* o) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < nk; ++j) axpy_f16(o[r], p[r * ldp + j], v[j], n);
}

}  // namespace

void register_elementwise(KernelTable& t) {
  t.rmsnorm = rmsnorm;
  t.swiglu = swiglu;
  t.add = add;
  t.axpy = axpy;
  t.softmax = softmax;
  t.attn_softmax = attn_softmax;
  t.f32_to_f16 = f32_to_f16_row;
  t.f16_to_f32 = f16_to_f32_row;
  t.dot_f32_f16 = dot_f32_f16;
  t.axpy_f16 = axpy_f16;
  t.attn_scores_f16 = attn_scores_f16;
  t.attn_pv_f16 = attn_pv_f16;
}

}  // namespace hearth::kernels::reference
