// Test support: runs a function on a thread with a small stack and measures
// how much of that stack it used.
//
// Used to prove that recursive passes stay within a thread stack with a
// margin: the function runs on a fresh thread whose stack is `stack_bytes`
// (a function that needs more dies with SIGSEGV on the guard page, failing
// the test), and the part of the stack it touched is found by painting the
// free stack with a pattern first and looking for the deepest byte that
// changed. Works in the sanitizer build (the painting and scanning are not
// instrumented).
//
// Thread-safety: each call uses its own thread; `fn` runs on it.

#ifndef HEALTHSCORE_ENGINE_COMMON_TESTING_STACK_USE_H_
#define HEALTHSCORE_ENGINE_COMMON_TESTING_STACK_USE_H_

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace healthscore::engine::common::testing {

// A stack smaller than any the server or the CLI runs expressions on (they
// use std::thread and gRPC threads: the default 8 MiB, or what the
// environment sets, rarely below 256 KiB): 256 KiB in optimised builds,
// and 1 MiB in unoptimised or AddressSanitizer builds, whose frames are
// several times larger (about 3.3 times for the expression parser at -O0
// with ASan).
#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__)
inline constexpr size_t kSmallStack = 1024 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr size_t kSmallStack = 1024 * 1024;
#else
inline constexpr size_t kSmallStack = 256 * 1024;
#endif
#else
inline constexpr size_t kSmallStack = 256 * 1024;
#endif

struct StackUse {
  bool ran = false;      // the thread could be started and `fn` returned
  size_t used = 0;       // bytes of stack below the caller's frame `fn` used
  size_t size = 0;       // bytes of stack the thread had
};

namespace stack_internal {

constexpr unsigned char kPaint = 0xa5;

struct Job {
  const std::function<void()>* fn = nullptr;
  StackUse use;
};

// Paints [lo, its own frame - 512): well below anything it uses itself
// (x86-64 leaf functions may use 128 bytes under the stack pointer).
__attribute__((noinline, no_sanitize_address)) inline void Paint(
    unsigned char* lo) {
  volatile unsigned char marker = 0;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(&marker) - 512;
  for (volatile unsigned char* p = lo; reinterpret_cast<uintptr_t>(p) < hi;
       ++p) {
    *p = kPaint;
  }
}

__attribute__((noinline, no_sanitize_address)) inline const unsigned char*
DeepestTouched(const unsigned char* lo, const unsigned char* hi) {
  const volatile unsigned char* p = lo;
  while (p < hi && *p == kPaint) ++p;
  return const_cast<const unsigned char*>(p);
}

inline void* Run(void* arg) {
  Job* job = static_cast<Job*>(arg);
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return nullptr;
  void* addr = nullptr;
  size_t size = 0;
  pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  unsigned char* lo = static_cast<unsigned char*>(addr);
  auto* here = static_cast<unsigned char*>(__builtin_frame_address(0));
  Paint(lo);
  (*job->fn)();
  job->use.used = static_cast<size_t>(here - DeepestTouched(lo, here));
  job->use.size = static_cast<size_t>(here - lo);
  job->use.ran = true;
  return nullptr;
}

}  // namespace stack_internal

// Runs `fn` on a new thread with a stack of `stack_bytes` and waits for it.
inline StackUse RunOnStack(size_t stack_bytes,
                           const std::function<void()>& fn) {
  stack_internal::Job job;
  job.fn = &fn;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_t thread;
  if (pthread_attr_setstacksize(&attr, stack_bytes) != 0 ||
      pthread_create(&thread, &attr, &stack_internal::Run, &job) != 0) {
    pthread_attr_destroy(&attr);
    return job.use;
  }
  pthread_attr_destroy(&attr);
  pthread_join(thread, nullptr);
  return job.use;
}

}  // namespace healthscore::engine::common::testing

#endif  // HEALTHSCORE_ENGINE_COMMON_TESTING_STACK_USE_H_
