// SPDX-License-Identifier: Apache-2.0
#include "format/fingerprint.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

namespace mmfree {
namespace {

// Odd 64-bit constants with well-mixed bits (fractional digits of √2, √3, e, φ).
constexpr uint64_t kMulA = 0x6A09E667F3BCC909ull;
constexpr uint64_t kMulB = 0xBB67AE8584CAA73Bull;
constexpr uint64_t kMulC = 0xB7E151628AED2A6Bull;
constexpr uint64_t kMulD = 0x9E3779B97F4A7C15ull;
constexpr size_t kChunk = size_t(4) << 20;   // hashed independently, so threads can share a file

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t load64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

// Spreads every input bit over the whole word (a bijection: distinct inputs stay distinct).
inline uint64_t avalanche(uint64_t x) {
    x ^= x >> 31; x *= kMulA;
    x ^= x >> 29; x *= kMulB;
    x ^= x >> 32;
    return x;
}

// One lane step. For a fixed lane value it is a bijection of the word (kMulB and kMulA are odd),
// so two inputs that differ in a single word always leave the lane in different states.
inline uint64_t step(uint64_t lane, uint64_t word) { return rotl(lane + word * kMulB, 29) * kMulA; }

struct Hash128 { uint64_t hi, lo; };

Hash128 hash_chunk(const uint8_t* p, size_t n, uint64_t index) {
    uint64_t l0 = kMulC ^ index, l1 = kMulD + index, l2 = kMulA - index, l3 = kMulB ^ rotl(index, 32);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        l0 = step(l0, load64(p + i));
        l1 = step(l1, load64(p + i + 8));
        l2 = step(l2, load64(p + i + 16));
        l3 = step(l3, load64(p + i + 24));
    }
    uint8_t tail[32] = {};
    std::memcpy(tail, p + i, n - i);
    // The tail length goes in too, so trailing zero bytes are not the same as no bytes.
    l0 = step(l0, load64(tail) ^ (uint64_t(n - i) << 56));
    l1 = step(l1, load64(tail + 8));
    l2 = step(l2, load64(tail + 16));
    l3 = step(l3, load64(tail + 24));
    const uint64_t hi = avalanche(l0 ^ rotl(l1, 17) ^ rotl(l2, 31) ^ rotl(l3, 47) ^ uint64_t(n));
    const uint64_t lo = avalanche((l0 + l2) * kMulC ^ (l1 + l3) * kMulD ^ rotl(uint64_t(n), 21));
    return {hi, lo};
}

} // namespace

void WeightFingerprint::add(const uint8_t* data, size_t size) {
    const size_t chunks = std::max<size_t>(1, (size + kChunk - 1) / kChunk);
    std::vector<Hash128> parts(chunks);
    auto work = [&](size_t first, size_t stride) {
        for (size_t c = first; c < chunks; c += stride) {
            const size_t begin = c * kChunk, len = std::min(kChunk, size - std::min(size, begin));
            parts[c] = hash_chunk(data + std::min(size, begin), len, c);
        }
    };
    const size_t n_threads = std::min<size_t>({4, chunks, std::max(1u, std::thread::hardware_concurrency())});
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(work, t, n_threads);
    work(0, n_threads);
    for (auto& t : threads) t.join();
    // Chain the chunks in order, then the file into the running state.
    uint64_t hi = avalanche(size ^ kMulD), lo = avalanche(size + kMulC);
    for (const Hash128& h : parts) {
        hi = avalanche(rotl(hi, 23) ^ h.hi) + h.lo;
        lo = avalanche(lo * kMulB + h.lo) ^ h.hi;
    }
    ++files_;
    hi_ = avalanche(hi_ ^ hi ^ files_);
    lo_ = avalanche(lo_ + lo) ^ files_;
}

std::string WeightFingerprint::hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hi_), static_cast<unsigned long long>(lo_));
    return buf;
}

} // namespace mmfree
