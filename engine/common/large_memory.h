// Memory for large buffers that a program fills again and again: the line
// blocks it reads, the results it renders, the cells of an account table.
//
// A request of at least kLargeMemoryBytes is mapped on its own, aligned to
// and rounded up to whole 2 MiB huge pages, and advised as transparent huge
// pages (madvise MADV_HUGEPAGE), so the kernel maps each 2 MiB with one page
// fault instead of 512. Where the kernel offers no transparent huge pages
// ("never" in /sys/kernel/mm/transparent_hugepage/enabled) the mapping works
// as plain memory. Smaller requests go to operator new.
//
// Why: the first touch of each 4 KiB page of a new buffer is a page fault,
// which on the virtual machine the benchmarks run on costs about 11
// microseconds (bench/README.md, issue 11); `healthscore score` touched
// some 40 MB of buffers, a tenth of a second of CPU in faults.
//
// Errors: an allocation that cannot be satisfied throws std::bad_alloc, as
// operator new does. Thread-safety: all functions may be called from any
// thread.
#ifndef HEALTHSCORE_ENGINE_COMMON_LARGE_MEMORY_H_
#define HEALTHSCORE_ENGINE_COMMON_LARGE_MEMORY_H_

#include <cstddef>
#include <limits>
#include <memory>
#include <new>

namespace healthscore::engine::common {

// Requests of at least this many bytes are mapped in huge pages.
inline constexpr size_t kLargeMemoryBytes = size_t{1} << 20;
// The huge page size the mappings are aligned to and rounded up to.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// How many bytes AllocateLarge(bytes) provides: `bytes` rounded up to whole
// huge pages when it is large, else `bytes`. LargeSize(LargeSize(n)) ==
// LargeSize(n), so a caller may use all of it and free with that size.
constexpr size_t LargeSize(size_t bytes) {
  return bytes < kLargeMemoryBytes
             ? bytes
             : (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}

// At least `bytes` bytes (LargeSize(bytes) may all be used), not zeroed,
// aligned as operator new aligns (a large request to 2 MiB). Never null;
// throws std::bad_alloc.
void* AllocateLarge(size_t bytes);

// Frees what AllocateLarge returned; `bytes` is the size asked for or its
// LargeSize. Null is ignored.
void FreeLarge(void* memory, size_t bytes) noexcept;

// A std::allocator for containers that grow large (a vector of a table's
// cells), through AllocateLarge.
template <typename T>
class LargeAllocator {
 public:
  using value_type = T;

  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) {
      throw std::bad_array_new_length();
    }
    return static_cast<T*>(AllocateLarge(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { FreeLarge(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const LargeAllocator<U>&) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const LargeAllocator<U>&) const noexcept {
    return false;
  }
};

// Frees a LargeBuffer: remembers the size its memory was allocated with.
struct LargeDeleter {
  size_t bytes = 0;
  void operator()(char* memory) const noexcept { FreeLarge(memory, bytes); }
};

// Bytes from AllocateLarge, owned.
using LargeBuffer = std::unique_ptr<char[], LargeDeleter>;

// A LargeBuffer of at least `bytes` bytes (LargeSize(bytes) usable).
inline LargeBuffer MakeLargeBuffer(size_t bytes) {
  return LargeBuffer(static_cast<char*>(AllocateLarge(bytes)),
                     LargeDeleter{bytes});
}

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_LARGE_MEMORY_H_
