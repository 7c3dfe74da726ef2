// SPDX-License-Identifier: Apache-2.0
// Memory for data that is streamed every token (the packed weights, and the bandwidth probe that
// measures the same kind of memory). It comes from 2 MB-aligned regions that the kernel is asked
// to back with transparent huge pages (madvise), so a streaming read neither misses the TLB nor
// stops the hardware prefetcher every 4 KB. The 370M decode GEMV sequence on the 2-core CI VM,
// 4 KB pages against 2 MB pages, alternating tokens in one process: 4483 / 4465 / 4556 µs per
// token against 3778 / 3774 / 3730 µs. Where huge pages are off, these are ordinary pages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mmfree {

// Whether buffers come from huge-page regions. Under AddressSanitizer each buffer is its own heap
// allocation instead, so an out-of-bounds read of the weights is still caught.
#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
inline constexpr bool kHugePageRegions = true;
#else
inline constexpr bool kHugePageRegions = false;
#endif

namespace detail {
void* huge_page_allocate(size_t bytes);        // throws std::bad_alloc
void huge_page_free(void* p, size_t bytes) noexcept;
} // namespace detail

// Small allocations share 32 MB regions (a model's many matrices end up contiguous); a region is
// returned to the system when its last allocation is freed.
template <class T> struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U> HugePageAllocator(const HugePageAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(detail::huge_page_allocate(n * sizeof(T))); }
    void deallocate(T* p, size_t n) noexcept { detail::huge_page_free(p, n * sizeof(T)); }
    template <class U> bool operator==(const HugePageAllocator<U>&) const { return true; }
};

using StreamedBytes = std::vector<uint8_t, HugePageAllocator<uint8_t>>;

} // namespace mmfree
