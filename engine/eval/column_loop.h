// HEALTHSCORE_COLUMN_LOOP: marks a function made of loops over whole
// columns (batch.cc's column puts, outcome.cc's outcome columns,
// account_table.cc's counts of ignored values, shadow.cc's delta bins).
//
// On x86-64 with GCC such a function is compiled for the baseline and for
// AVX2, and the CPU's form is picked when the library loads (GCC's
// target_clones). The baseline cannot vectorise a loop that writes bytes
// and doubles together, nor count or convert doubles to 32-bit integers;
// AVX2 can. Elsewhere the macro is empty. Only for .cc files compiled at
// -O3 (engine/CMakeLists.txt lists them): below it GCC vectorises none of
// these loops.

#ifndef HEALTHSCORE_ENGINE_EVAL_COLUMN_LOOP_H_
#define HEALTHSCORE_ENGINE_EVAL_COLUMN_LOOP_H_

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HEALTHSCORE_COLUMN_LOOP [[gnu::target_clones("avx2", "default")]]
#else
#define HEALTHSCORE_COLUMN_LOOP
#endif

#endif  // HEALTHSCORE_ENGINE_EVAL_COLUMN_LOOP_H_
