// Large memory. The mapping is made one huge page longer than needed and
// trimmed on both sides, because mmap aligns only to the base page and the
// kernel backs a range with a huge page only where a whole aligned 2 MiB
// lies inside the mapping.

#include "engine/common/large_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace healthscore::engine::common {

void* AllocateLarge(size_t bytes) {
  if (bytes < kLargeMemoryBytes) return ::operator new(bytes);
  const size_t size = LargeSize(bytes);
  if (size < bytes || size > SIZE_MAX - kHugePageBytes) {
    throw std::bad_alloc();
  }
  void* mapped = mmap(nullptr, size + kHugePageBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  char* const begin = static_cast<char*>(mapped);
  char* const aligned = reinterpret_cast<char*>(
      (reinterpret_cast<uintptr_t>(begin) + kHugePageBytes - 1) &
      ~uintptr_t{kHugePageBytes - 1});
  char* const end = begin + size + kHugePageBytes;
  if (aligned > begin) munmap(begin, static_cast<size_t>(aligned - begin));
  if (end > aligned + size) {
    munmap(aligned + size, static_cast<size_t>(end - (aligned + size)));
  }
  // Advice only: a kernel without transparent huge pages refuses it, and
  // the memory is then plain pages.
  madvise(aligned, size, MADV_HUGEPAGE);
  return aligned;
}

void FreeLarge(void* memory, size_t bytes) noexcept {
  if (memory == nullptr) return;
  if (bytes < kLargeMemoryBytes) {
    ::operator delete(memory);
    return;
  }
  munmap(memory, LargeSize(bytes));
}

}  // namespace healthscore::engine::common
