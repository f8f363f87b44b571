// The shared quant tables and scale codecs declared in tables.h, generated at compile time from
// their format definitions (OCP MX v1.0 E8M0 / E2M1, UE4M3) in the exact form ggml decodes them.
#include "quant/tables.h"

#include <array>
#include <bit>

namespace hearth::quant {
namespace {

// 2^k as a float for k in [-149, 127], built from bits so it is exact (subnormals included).
constexpr float pow2(int k) {
  if (k >= -126) return std::bit_cast<float>(uint32_t(k + 127) << 23);
  return std::bit_cast<float>(uint32_t(1) << (k + 149));
}

constexpr std::array<float, 256> make_e8m0_half() {
  std::array<float, 256> t{};
  for (int e = 0; e < 256; ++e) t[e] = pow2(e - 128);  // 2^(e-1-127): the E8M0 value halved
  return t;
}

constexpr std::array<float, 256> make_ue4m3_half() {
  std::array<float, 256> t{};
  for (int x = 0; x < 256; ++x) {
    if (x == 0 || x == 0x7F) continue;  // zero and the NaN code both decode to 0
    const int e = (x >> 3) & 0xF;
    const int m = x & 7;
    // value = m * 2^-9 (e = 0) or (8 + m) * 2^(e-10); halved -> one more power of two. Exact.
    t[x] = e == 0 ? float(m) * pow2(-10) : float(8 + m) * pow2(e - 11);
  }
  return t;
}

constexpr std::array<float, 256> kE8m0Half = make_e8m0_half();
constexpr std::array<float, 256> kUe4m3Half = make_ue4m3_half();

static_assert(kE8m0Half[128] == 1.0f && kE8m0Half[127] == 0.5f && kE8m0Half[0] == pow2(-128));
static_assert(kUe4m3Half[0x38] == 0.5f);    // e = 7, m = 0: 1.0, halved
static_assert(kUe4m3Half[0x7E] == 224.0f);  // 448 (largest finite E4M3), halved
static_assert(kUe4m3Half[0x01] == 0.0009765625f);  // 2^-9, halved

}  // namespace

const int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                 1,    13,   25,  38,  53,  69,  89,  113};
const int8_t kFp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

const float kE8m0HalfValues[256] = {
#define H(i) kE8m0Half[i]
#define H8(i) H(i), H(i + 1), H(i + 2), H(i + 3), H(i + 4), H(i + 5), H(i + 6), H(i + 7)
#define H64(i) H8(i), H8(i + 8), H8(i + 16), H8(i + 24), H8(i + 32), H8(i + 40), H8(i + 48), H8(i + 56)
    H64(0), H64(64), H64(128), H64(192)
#undef H
};
const float kUe4m3HalfValues[256] = {
#define H(i) kUe4m3Half[i]
    H64(0), H64(64), H64(128), H64(192)
#undef H
#undef H8
#undef H64
};

float e8m0_to_f32_half(uint8_t e) { return kE8m0HalfValues[e]; }
float e8m0_to_f32(uint8_t e) { return e == 0 ? pow2(-127) : pow2(int(e) - 127); }
float ue4m3_to_f32_half(uint8_t x) { return kUe4m3HalfValues[x]; }

uint8_t f32_to_ue4m3(float x) {
  if (!(x > 0.0f)) return 0;  // also NaN
  if (x > 448.0f) x = 448.0f;
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const int f32_exp = int((bits >> 23) & 0xFF) - 127;
  int exp = f32_exp + 7;
  if (exp <= 0) {
    // below the smallest normal (2^-6): subnormal code m = round-half-up(x * 2^9), capped at 7
    int m = int(x * 512.0f + 0.5f);
    if (m > 7) m = 7;
    return m < 1 ? 0 : uint8_t(m);
  }
  if (exp >= 15) return 0x7E;
  int man = int((bits >> 20) & 7) + int((bits >> 19) & 1);  // top 3 bits, rounded half up
  if (man > 7) {
    man = 0;
    if (++exp >= 15) return 0x7E;
  }
  return uint8_t((exp << 3) | man);
}

}  // namespace hearth::quant
