#include "python/array_pool.h"

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL healthscore_ARRAY_API
#include <numpy/arrayobject.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace healthscore::python {
namespace {

// Every block starts with its capacity; 16 bytes keep the alignment
// malloc gives, which is what NumPy's own handler gives.
constexpr size_t kHeader = 16;
// Smaller blocks are malloc's business: its bins already reuse them.
constexpr size_t kMinPooled = size_t{1} << 20;
// New blocks from this size on are backed by huge pages where the kernel
// allows, as NumPy's own handler does: a fault per 2 MiB, not per 4 KiB.
// Every new pooled block is then made present at once (one
// MADV_POPULATE_WRITE), not a page fault at a time as it is first written:
// on a virtual machine whose faults are slow that was a tenth of the
// package's engine stage (bench/README.md).
constexpr size_t kMinHugePages = size_t{4} << 20;

struct Pool {
  std::mutex mu;
  std::vector<std::pair<size_t, char*>> idle;  // (capacity, raw block)
  size_t idle_bytes = 0;
  size_t limit = kDefaultArrayPoolLimit;
  uint64_t reused = 0;
  std::atomic<uint64_t> fresh{0};
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: arrays outlive exit
  return *pool;
}

// Pooled sizes are rounded up to an eighth of their power of two, so arrays
// of nearly the same length (Dask partitions) share blocks.
size_t Capacity(size_t bytes) {
  if (bytes < kMinPooled) return bytes;
  size_t power = kMinPooled;
  while (power <= bytes / 2) power *= 2;
  const size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

size_t& CapacityOf(char* raw) { return *reinterpret_cast<size_t*>(raw); }

constexpr int kHugePage = 14;       // MADV_HUGEPAGE
constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14)

// Gives `advice` for the whole pages of [p, p + bytes). Advice only: where
// the kernel does not take it, the block works the same.
void Advise(char* p, size_t bytes, int advice) {
#ifdef __linux__
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + page - 1) & ~(page - 1);
  const uintptr_t last = (begin + bytes) & ~(page - 1);
  if (last > first) {
    madvise(reinterpret_cast<void*>(first), last - first, advice);
  }
#else
  (void)p, (void)bytes, (void)advice;
#endif
}

void* Allocate(size_t bytes, bool zero) {
  const size_t capacity = Capacity(bytes);
  if (capacity >= kMinPooled) {
    Pool& pool = ThePool();
    char* found = nullptr;
    {
      std::lock_guard<std::mutex> lock(pool.mu);
      // The smallest idle block that fits and wastes at most a quarter.
      size_t best = pool.idle.size();
      for (size_t i = 0; i < pool.idle.size(); ++i) {
        const size_t c = pool.idle[i].first;
        if (c < bytes || c - bytes > bytes / 4) continue;
        if (best == pool.idle.size() || c < pool.idle[best].first) best = i;
      }
      if (best < pool.idle.size()) {
        found = pool.idle[best].second;
        pool.idle_bytes -= pool.idle[best].first;
        pool.idle[best] = pool.idle.back();
        pool.idle.pop_back();
        ++pool.reused;
      }
    }
    if (found != nullptr) {
      if (zero) std::memset(found + kHeader, 0, bytes);
      return found + kHeader;
    }
    pool.fresh.fetch_add(1, std::memory_order_relaxed);
  }
  // A fresh block from calloc is zero without a memset (new pages).
  char* raw = static_cast<char*>(zero ? std::calloc(1, capacity + kHeader)
                                      : std::malloc(capacity + kHeader));
  if (raw == nullptr) return nullptr;
  CapacityOf(raw) = capacity;
  if (capacity >= kMinPooled) {
    if (capacity >= kMinHugePages) Advise(raw, kHeader + capacity, kHugePage);
    Advise(raw, kHeader + capacity, kPopulateWrite);
  }
  return raw + kHeader;
}

void Free(void* p) {
  if (p == nullptr) return;
  char* raw = static_cast<char*>(p) - kHeader;
  const size_t capacity = CapacityOf(raw);
  if (capacity >= kMinPooled) {
    Pool& pool = ThePool();
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.idle_bytes + capacity <= pool.limit) {
      pool.idle.emplace_back(capacity, raw);
      pool.idle_bytes += capacity;
      return;
    }
  }
  std::free(raw);
}

void* PoolMalloc(void* /*ctx*/, size_t size) { return Allocate(size, false); }

void* PoolCalloc(void* /*ctx*/, size_t count, size_t size) {
  if (size != 0 && count > std::numeric_limits<size_t>::max() / size) {
    return nullptr;
  }
  return Allocate(count * size, true);
}

void* PoolRealloc(void* /*ctx*/, void* p, size_t size) {
  if (p == nullptr) return Allocate(size, false);
  const size_t capacity = CapacityOf(static_cast<char*>(p) - kHeader);
  // Shrinking in place keeps the block unless most of it would lie unused.
  if (size <= capacity && size >= capacity / 2) return p;
  void* moved = Allocate(size, false);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(size, capacity));
  Free(p);
  return moved;
}

void PoolFree(void* /*ctx*/, void* p, size_t /*size*/) { Free(p); }

PyDataMem_Handler kHandler = {
    "healthscore_array_pool",
    1,
    {nullptr, PoolMalloc, PoolCalloc, PoolRealloc, PoolFree}};

PyObject* handler_capsule = nullptr;  // owned, for the process's life

}  // namespace

bool InitArrayPool() {
  if (_import_array() < 0) return false;
  handler_capsule = PyCapsule_New(&kHandler, "mem_handler", nullptr);
  return handler_capsule != nullptr;
}

PoolScope::PoolScope() : previous_(PyDataMem_SetHandler(handler_capsule)) {
  // Failing to set it leaves NumPy's handler: slower, never wrong.
  if (previous_ == nullptr) PyErr_Clear();
}

PoolScope::~PoolScope() {
  if (previous_ == nullptr) return;
  PyObject* ours = PyDataMem_SetHandler(previous_);
  if (ours == nullptr) PyErr_Clear();
  Py_XDECREF(ours);
  Py_DECREF(previous_);
}

void SetArrayPoolLimit(size_t bytes) {
  Pool& pool = ThePool();
  std::vector<char*> freed;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    pool.limit = bytes;
    while (pool.idle_bytes > pool.limit) {
      pool.idle_bytes -= pool.idle.back().first;
      freed.push_back(pool.idle.back().second);
      pool.idle.pop_back();
    }
  }
  for (char* raw : freed) std::free(raw);
}

ArrayPoolStats GetArrayPoolStats() {
  Pool& pool = ThePool();
  std::lock_guard<std::mutex> lock(pool.mu);
  ArrayPoolStats stats;
  stats.idle_bytes = pool.idle_bytes;
  stats.limit_bytes = pool.limit;
  stats.reused = pool.reused;
  stats.fresh = pool.fresh.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace healthscore::python
