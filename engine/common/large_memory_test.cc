#include "engine/common/large_memory.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Whether the page at `address` is mapped in this process (mincore fails
// with ENOMEM for an unmapped one).
bool IsMapped(const void* address) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  void* start = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(address) &
                                        ~(page - 1));
  unsigned char resident;
  if (mincore(start, 1, &resident) == 0) return true;
  EXPECT_EQ(errno, ENOMEM);
  return false;
}

long MinorFaultsOfThisThread() {
  struct rusage usage;
  EXPECT_EQ(getrusage(RUSAGE_THREAD, &usage), 0);
  return usage.ru_minflt;
}

// The kernel's transparent huge page mode: "always", "madvise" or "never"
// (the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled), or
// "" when the kernel has none.
std::string HugePageMode() {
  const std::string text =
      testing::ReadFile("/sys/kernel/mm/transparent_hugepage/enabled");
  const size_t open = text.find('[');
  const size_t close = text.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return text.substr(open + 1, close - open - 1);
}

TEST(LargeMemoryTest, LargeSizeRoundsOnlyLargeRequestsToWholeHugePages) {
  EXPECT_EQ(LargeSize(0), 0u);
  EXPECT_EQ(LargeSize(100), 100u);
  EXPECT_EQ(LargeSize(kLargeMemoryBytes - 1), kLargeMemoryBytes - 1);
  EXPECT_EQ(LargeSize(kLargeMemoryBytes), kHugePageBytes);
  EXPECT_EQ(LargeSize(kHugePageBytes), kHugePageBytes);
  EXPECT_EQ(LargeSize(kHugePageBytes + 1), 2 * kHugePageBytes);
  for (size_t n : {size_t{1}, kMiB - 1, kMiB, 3 * kMiB + 5, 64 * kMiB}) {
    EXPECT_EQ(LargeSize(LargeSize(n)), LargeSize(n)) << n;
  }
}

TEST(LargeMemoryTest, SmallRequestsAreWritableAndFreed) {
  for (size_t n : {size_t{1}, size_t{64}, kLargeMemoryBytes - 1}) {
    char* p = static_cast<char*>(AllocateLarge(n));
    ASSERT_NE(p, nullptr);
    std::memset(p, 'x', n);  // the sanitizer build checks every byte is ours
    EXPECT_EQ(p[n - 1], 'x');
    FreeLarge(p, n);
  }
}

// A large request is one aligned mapping, all of LargeSize usable, and
// FreeLarge gives every page of it back.
TEST(LargeMemoryTest, LargeRequestsAreAlignedWritableAndGivenBack) {
  const size_t asked = 3 * kMiB + 5;
  const size_t size = LargeSize(asked);
  ASSERT_EQ(size, 4 * kMiB);
  char* p = static_cast<char*>(AllocateLarge(asked));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePageBytes, 0u);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<char>(i * 31 + 7);
  bool intact = true;
  for (size_t i = 0; i < size; ++i) {
    intact = intact && p[i] == static_cast<char>(i * 31 + 7);
  }
  EXPECT_TRUE(intact);
  EXPECT_TRUE(IsMapped(p));
  EXPECT_TRUE(IsMapped(p + size - 1));
  FreeLarge(p, asked);
  EXPECT_FALSE(IsMapped(p));
  EXPECT_FALSE(IsMapped(p + size / 2));
  EXPECT_FALSE(IsMapped(p + size - 1));
}

// The point of it all: where the kernel offers transparent huge pages,
// touching 4 MiB of large memory takes a handful of page faults, not one per
// 4 KiB page (1,024). Where it offers none, the memory is plain pages.
TEST(LargeMemoryTest, TouchingLargeMemoryTakesFewPageFaults) {
  const std::string mode = HugePageMode();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t size = 4 * kMiB;
  char* p = static_cast<char*>(AllocateLarge(size));
  const long before = MinorFaultsOfThisThread();
  for (size_t i = 0; i < size; i += page) p[i] = 1;
  const long faults = MinorFaultsOfThisThread() - before;
  FreeLarge(p, size);
  if (mode == "always" || mode == "madvise") {
    // At least one of the two huge pages was used (the kernel may fall
    // back to small pages for one when memory is fragmented).
    EXPECT_LT(faults, static_cast<long>(size / page / 2))
        << "transparent huge pages are '" << mode << "'";
  } else {
    EXPECT_GE(faults, static_cast<long>(size / page / 2))
        << "transparent huge pages are '" << mode << "'";
  }
}

TEST(LargeMemoryTest, AVectorGrowsThroughLargeAllocator) {
  std::vector<uint64_t, LargeAllocator<uint64_t>> values;
  for (uint64_t i = 0; i < 1000000; ++i) values.push_back(i * 2654435761u);
  ASSERT_EQ(values.size(), 1000000u);
  bool intact = true;
  for (uint64_t i = 0; i < values.size(); ++i) {
    intact = intact && values[i] == i * 2654435761u;
  }
  EXPECT_TRUE(intact);
  std::vector<uint64_t, LargeAllocator<uint64_t>> copy = values;
  values.clear();
  values.shrink_to_fit();
  EXPECT_EQ(copy[999999], uint64_t{999999} * 2654435761u);
}

TEST(LargeMemoryTest, LargeBufferFreesWithTheSizeItWasMadeWith) {
  LargeBuffer buffer = MakeLargeBuffer(kHugePageBytes + 1);
  char* p = buffer.get();
  std::memset(p, 'y', LargeSize(kHugePageBytes + 1));
  LargeBuffer moved = std::move(buffer);
  EXPECT_EQ(buffer.get(), nullptr);
  EXPECT_EQ(moved.get(), p);
  moved.reset();
  EXPECT_FALSE(IsMapped(p));
  EXPECT_FALSE(IsMapped(p + 2 * kHugePageBytes - 1));
}

}  // namespace
}  // namespace healthscore::engine::common
