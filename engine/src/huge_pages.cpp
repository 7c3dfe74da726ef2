// SPDX-License-Identifier: Apache-2.0
#include "mmfree/huge_pages.h"

#include <algorithm>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mmfree::detail {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kRegion = size_t(32) << 20;   // shared by allocations below half of it
constexpr size_t kAlign = 64;                  // a cache line: what the SIMD loads want

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

struct Region {
    char* base = nullptr;
    size_t size = 0, used = 0;
    size_t live = 0;      // allocations not yet freed
    bool shared = false;  // takes small allocations (bump-allocated, never reused until empty)
};

struct Registry {
    std::mutex mutex;
    std::vector<Region> regions;   // the newest shared one takes new small allocations
};
// Never destroyed: a model freed during static destruction still finds its region.
Registry& registry() {
    static Registry* r = new Registry;
    return *r;
}

// A 2 MB-aligned anonymous mapping with huge pages requested (a refusal leaves normal pages).
char* map_region(size_t size) {
#if defined(__linux__)
    void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    char* start = static_cast<char*>(raw);
    char* aligned = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(start), kHugePage));
    if (aligned > start) ::munmap(start, size_t(aligned - start));
    if (const size_t tail = size_t(start + size + kHugePage - (aligned + size))) ::munmap(aligned + size, tail);
    ::madvise(aligned, size, MADV_HUGEPAGE);
    return aligned;
#else
    (void)size;
    throw std::bad_alloc();   // unreachable: kHugePageRegions is false
#endif
}

void unmap_region(const Region& r) {
#if defined(__linux__)
    ::munmap(r.base, r.size);
#else
    (void)r;
#endif
}

std::align_val_t heap_alignment(size_t bytes) { return std::align_val_t(bytes > kRegion / 2 ? kHugePage : kAlign); }

} // namespace

void* huge_page_allocate(size_t bytes) {
    bytes = round_up(std::max<size_t>(bytes, 1), kAlign);
    if (!kHugePageRegions) return ::operator new(bytes, heap_alignment(bytes));
    Registry& reg = registry();
    std::lock_guard lock(reg.mutex);
    auto& regions = reg.regions;
    if (bytes > kRegion / 2) {
        const size_t size = round_up(bytes, kHugePage);
        regions.push_back(Region{map_region(size), size, bytes, 1, false});
        return regions.back().base;
    }
    auto shared = std::find_if(regions.rbegin(), regions.rend(), [](const Region& r) { return r.shared; });
    Region* r = shared != regions.rend() && shared->size - shared->used >= bytes ? &*shared : nullptr;
    if (!r) {
        regions.push_back(Region{map_region(kRegion), kRegion, 0, 0, true});
        r = &regions.back();
    }
    void* p = r->base + r->used;
    r->used += bytes;
    ++r->live;
    return p;
}

void huge_page_free(void* p, size_t bytes) noexcept {
    if (!p) return;
    if (!kHugePageRegions) return ::operator delete(p, heap_alignment(round_up(std::max<size_t>(bytes, 1), kAlign)));
    Registry& reg = registry();
    std::lock_guard lock(reg.mutex);
    auto& regions = reg.regions;
    auto it = std::find_if(regions.begin(), regions.end(), [&](const Region& r) {
        return static_cast<char*>(p) >= r.base && static_cast<char*>(p) < r.base + r.size;
    });
    if (it == regions.end() || --it->live > 0) return;
    unmap_region(*it);
    regions.erase(it);
}

} // namespace mmfree::detail
