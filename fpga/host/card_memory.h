// SPDX-License-Identifier: Apache-2.0
// Card memory (the board's DDR/HBM) as a sparse byte array, shared by the golden model and the
// simulated AXI4 slave. 64 KiB pages are allocated on first write, so a 4 GiB address space
// costs only what a model image actually touches.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace mmfa {

class CardMemory {
public:
    static constexpr uint64_t kPageBits = 16;
    static constexpr uint64_t kPage = uint64_t(1) << kPageBits;

    explicit CardMemory(uint64_t size_bytes = uint64_t(1) << 32) : size_(size_bytes), pages_((size_bytes + kPage - 1) >> kPageBits) {}

    uint64_t size() const { return size_; }
    bool contains(uint64_t addr, uint64_t n) const { return addr <= size_ && n <= size_ - addr; }

    void write(uint64_t addr, const void* src, size_t n) {
        const auto* s = static_cast<const uint8_t*>(src);
        while (n) {
            const uint64_t off = addr & (kPage - 1);
            const size_t chunk = size_t(std::min<uint64_t>(n, kPage - off));
            std::memcpy(page(addr >> kPageBits) + off, s, chunk);
            addr += chunk;
            s += chunk;
            n -= chunk;
        }
    }
    void read(uint64_t addr, void* dst, size_t n) const {
        auto* d = static_cast<uint8_t*>(dst);
        while (n) {
            const uint64_t off = addr & (kPage - 1);
            const size_t chunk = size_t(std::min<uint64_t>(n, kPage - off));
            const auto& p = pages_[addr >> kPageBits];
            if (p) std::memcpy(d, p.get() + off, chunk);
            else std::memset(d, 0, chunk);
            addr += chunk;
            d += chunk;
            n -= chunk;
        }
    }
    uint32_t read32(uint64_t addr) const {
        uint32_t v;
        read(addr, &v, 4);
        return v;
    }
    void write32(uint64_t addr, uint32_t v) { write(addr, &v, 4); }
    void clear() {
        for (auto& p : pages_) p.reset();
    }

private:
    uint8_t* page(uint64_t i) {
        auto& p = pages_[i];
        if (!p) p.reset(new uint8_t[kPage]());
        return p.get();
    }
    uint64_t size_;
    std::vector<std::unique_ptr<uint8_t[]>> pages_;
};

} // namespace mmfa
