// A NumPy memory handler (NEP 49) that keeps the data blocks of large arrays
// when they are freed and hands them to the next arrays of about the same
// size.
//
// Why: scoring a DataFrame writes each result column once, and the first
// write to memory the process has just mapped costs far more than the
// scoring (a page fault per 4 KiB; on a virtual machine with shadow page
// tables, more again): for 1 million accounts the result columns alone are
// ~90 MB. A workload that scores frame after frame (Dask partitions, a
// notebook re-running a cell, a nightly job) frees the last frame's columns
// before or while it makes the next; with the pool those columns are
// written to memory already mapped.
//
// Scope: only arrays NumPy allocates while the pool is the current
// context's handler (PoolScope, or `with healthscore._core.array_pool()`)
// come from it; an array remembers its handler, so it returns its block to
// the pool whenever and wherever it is freed. Blocks under 1 MiB are plain
// malloc'd. Idle blocks are at most limit bytes (default
// kDefaultArrayPoolLimit); past it a freed block is given back to malloc.
//
// Threading: every function is thread-safe; NumPy may allocate and free
// with or without the GIL. PoolScope and the functions taking or returning
// PyObject* need the GIL.

#ifndef HEALTHSCORE_PYTHON_ARRAY_POOL_H_
#define HEALTHSCORE_PYTHON_ARRAY_POOL_H_

#include <Python.h>

#include <cstddef>
#include <cstdint>

namespace healthscore::python {

inline constexpr size_t kDefaultArrayPoolLimit = size_t{512} << 20;

struct ArrayPoolStats {
  size_t idle_bytes = 0;   // held by the pool, in no array
  size_t limit_bytes = 0;  // the most it holds idle
  uint64_t reused = 0;     // blocks handed out again
  uint64_t fresh = 0;      // pooled-size blocks taken from malloc
};

// Imports NumPy's C API and makes the handler. Returns false with a Python
// error set when NumPy cannot be imported or lacks handlers (< 1.22).
// Call once, from the module's init, with the GIL held.
bool InitArrayPool();

// While alive, the pool is NumPy's handler in the current context; the
// previous handler is restored on destruction. Nests. Needs the GIL, and
// InitArrayPool to have succeeded.
class PoolScope {
 public:
  PoolScope();
  ~PoolScope();
  PoolScope(const PoolScope&) = delete;
  PoolScope& operator=(const PoolScope&) = delete;

 private:
  PyObject* previous_;  // owned; null when setting the handler failed
};

// Sets the most idle bytes the pool keeps (0: keep none) and frees idle
// blocks past it.
void SetArrayPoolLimit(size_t bytes);
ArrayPoolStats GetArrayPoolStats();

}  // namespace healthscore::python

#endif  // HEALTHSCORE_PYTHON_ARRAY_POOL_H_
