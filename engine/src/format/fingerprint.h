// SPDX-License-Identifier: Apache-2.0
// The identity of a model's weights: a 128-bit hash of every byte of every file the model is
// computed from (config.json, the shard index, each safetensors shard; or the whole GGUF file).
//
// Guarantee: the whole content is hashed, not a sample, so ANY changed byte (one weight of a
// retrained model, or all of them) gives a different fingerprint, except with the probability of
// a random 64-bit collision per pair of versions (each 4 MiB chunk hashes to 256 bits of lane
// state folded to 128; two different chunks agree with probability ≈ 2⁻⁶⁴ or less). It is not a
// cryptographic hash: it detects changed weights, it does not resist someone forging a collision.
// Speed: a 4-lane multiply-rotate hash (one 64-bit multiply per 8 bytes per lane) over the
// mapped file on up to 4 threads: memory bandwidth, a small part of the load that reads all of
// it anyway (numbers in the commit that added it and in `mmfree info`).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mmfree {

class WeightFingerprint {
public:
    // Adds one file's whole content (order matters: add files in a fixed order).
    void add(const uint8_t* data, size_t size);
    void add(std::string_view bytes) { add(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()); }
    std::string hex() const;   // 32 hex digits

private:
    uint64_t hi_ = 0x243F6A8885A308D3ull;   // digits of π: any fixed start
    uint64_t lo_ = 0x13198A2E03707344ull;
    uint64_t files_ = 0;
};

} // namespace mmfree
