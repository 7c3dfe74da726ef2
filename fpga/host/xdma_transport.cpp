// SPDX-License-Identifier: Apache-2.0
#include "xdma_transport.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace mmfa {

namespace {

constexpr size_t kWindow = 4096;

class XdmaTransport final : public Transport {
public:
    XdmaTransport(const std::string& base, uint64_t card_bytes) : base_(base), card_(card_bytes) {
        user_ = open_dev(base + "_user", O_RDWR | O_SYNC);
        h2c_ = open_dev(base + "_h2c_0", O_WRONLY);
        c2h_ = open_dev(base + "_c2h_0", O_RDONLY);
        void* p = mmap(nullptr, kWindow, PROT_READ | PROT_WRITE, MAP_SHARED, user_, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            close_all();
            throw DriverError(DriverError::NoDevice, "cannot map the register window of " + base + "_user: " + std::strerror(e));
        }
        regs_ = static_cast<volatile uint32_t*>(p);
    }
    ~XdmaTransport() override {
        if (regs_) munmap(const_cast<uint32_t*>(regs_), kWindow);
        close_all();
    }
    std::string name() const override { return "xdma"; }
    std::string description() const override { return "FPGA board at " + base_ + " (XDMA)"; }
    bool modeled() const override { return false; }
    uint64_t card_memory_bytes() const override { return card_; }
    uint32_t read32(uint32_t off) override { return regs_[(off & (kWindow - 1)) / 4]; }
    void write32(uint32_t off, uint32_t v) override { regs_[(off & (kWindow - 1)) / 4] = v; }
    void write_mem(uint64_t a, const void* p, size_t n) override {
        const auto* s = static_cast<const uint8_t*>(p);
        while (n) {
            const ssize_t k = pwrite(h2c_, s, n, off_t(a));
            if (k <= 0) {
                if (k < 0 && errno == EINTR) continue;
                throw DriverError(DriverError::Device, "DMA write to card address failed: " + std::string(std::strerror(errno)));
            }
            s += k;
            a += uint64_t(k);
            n -= size_t(k);
        }
    }
    void read_mem(uint64_t a, void* p, size_t n) override {
        auto* d = static_cast<uint8_t*>(p);
        while (n) {
            const ssize_t k = pread(c2h_, d, n, off_t(a));
            if (k <= 0) {
                if (k < 0 && errno == EINTR) continue;
                throw DriverError(DriverError::Device, "DMA read from card address failed: " + std::string(std::strerror(errno)));
            }
            d += k;
            a += uint64_t(k);
            n -= size_t(k);
        }
    }
    // Polling every few microseconds is plenty: a token takes milliseconds on hardware.
    void advance(uint64_t cycles) override {
        const double us = std::max(2.0, double(cycles) / 200.0);   // nominal 200 MHz
        std::this_thread::sleep_for(std::chrono::microseconds(int64_t(us)));
    }

private:
    int open_dev(const std::string& path, int flags) {
        const int fd = ::open(path.c_str(), flags);
        if (fd < 0) {
            const int e = errno;
            close_all();
            throw DriverError(DriverError::NoDevice, "no FPGA board: cannot open " + path + " (" + std::strerror(e) +
                                                         "); is the XDMA driver loaded?");
        }
        return fd;
    }
    void close_all() {
        for (int* fd : {&user_, &h2c_, &c2h_})
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
    }
    std::string base_;
    uint64_t card_;
    int user_ = -1, h2c_ = -1, c2h_ = -1;
    volatile uint32_t* regs_ = nullptr;
};

} // namespace

std::unique_ptr<Transport> make_xdma_transport(const std::string& base, uint64_t card_bytes) {
    return std::make_unique<XdmaTransport>(base, card_bytes);
}

} // namespace mmfa
