/*
 * healthscore/plugin.h: the Healthscore plugin ABI.
 *
 * A plugin is a shared library that computes custom signals for health
 * models (an anomaly score over daily usage, NPS from raw survey answers,
 * ...). A model names the plugin and one of its signals; the engine then
 * treats the signal like any derived value: it is normalised, weighted and
 * read by playbook conditions. docs/writing-plugins.md is the walkthrough.
 *
 * This header is the whole contract. It is pure C99 and includes only the
 * C standard library, so a plugin can be written in C, C++ or anything that
 * speaks the C ABI. C++ authors may prefer healthscore/plugin.hpp, which
 * wraps this header in a class interface and catches every exception.
 *
 * SHAPE
 *   A plugin exports exactly one symbol, hs_plugin_get_api(), returning a
 *   table (hs_plugin_api) that describes the plugin and holds its calls.
 *   Lifecycle, for each `plugins:` entry of each model that is loaded:
 *
 *     hs_plugin_get_api(host)        once per library load
 *     init(host, config)             -> plugin state (one per model entry)
 *       create_signal(name, params)  -> signal state (one per derived value)
 *         evaluate_batch(...)        any number of times, one call per chunk
 *                                    of up to 256 accounts (never per row)
 *       destroy_signal(signal)
 *     finalize(plugin state)
 *
 * VERSIONING
 *   Every table starts with {struct_size, abi_major, abi_minor} (the
 *   descriptors start with struct_size) and only ever grows at the end.
 *   Fields are never removed, reordered or retyped within one major
 *   version. A table or descriptor whose struct_size does not cover a field
 *   lacks it: the reader treats the field as absent (NULL or 0).
 *
 *   The host loads a plugin only when the plugin's abi_major equals the
 *   host's HS_PLUGIN_ABI_MAJOR and the plugin's abi_minor is not newer than
 *   the host's HS_PLUGIN_ABI_MINOR. It checks this right after
 *   hs_plugin_get_api() returns and before it calls or reads anything else;
 *   a refused plugin gets no further call. The message names both versions.
 *   A plugin may likewise refuse a host (return NULL) after reading
 *   host->abi_major and host->abi_minor.
 *
 * OWNERSHIP (in names: *_host_ptr belongs to the host, *_plugin_ptr to the
 * plugin; unsuffixed pointers in descriptors belong to the plugin)
 *   - Buffers passed to a call belong to the caller and are valid only for
 *     the duration of that call: copy what you need to keep.
 *   - The API table, descriptors and every string they point to belong to
 *     the plugin and must stay valid and unchanged until the library is
 *     unloaded (static storage is the usual choice).
 *   - States (hs_plugin_state, hs_signal_state) are opaque to the host and
 *     owned by the plugin; the host returns each to its destroy call exactly
 *     once.
 *
 * THREADING
 *   - Lifecycle calls (init, create_signal, destroy_signal, finalize) are
 *     serialised by the host per library: two never run at the same time.
 *     They may run while evaluate_batch runs on signals of other plugin
 *     states (another model being loaded while one is serving).
 *   - evaluate_batch concurrency is what the plugin declares in
 *     hs_plugin_api.threading (see hs_threading); the host adds whatever
 *     locking that requires. Scoring runs chunks of one batch on several
 *     threads, so HS_THREADING_CONCURRENT is fastest.
 *   - No call is made on a signal state after destroy_signal, nor on a
 *     plugin state after finalize.
 *
 * ERRORS
 *   Calls that can fail return an hs_code (HS_OK = 0) and may describe the
 *   failure in a host-supplied hs_error buffer (see hs_error_set). Failures
 *   of single accounts are not call failures: they go in
 *   hs_batch_out.row_status. Nothing may unwind (C++ exceptions, longjmp)
 *   across any function of this ABI.
 *
 * SYMBOLS
 *   Build with -fvisibility=hidden and export only hs_plugin_* (the SDK's
 *   CMake helper hs_add_plugin() does both, with a version script), so that
 *   two plugins never clash on an internal symbol. Mark the entry point
 *   with HS_PLUGIN_EXPORT.
 */

#ifndef HEALTHSCORE_PLUGIN_H_
#define HEALTHSCORE_PLUGIN_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define HS_PLUGIN_ABI_MAJOR 1
#define HS_PLUGIN_ABI_MINOR 0

/* The one symbol a plugin exports, and its type. */
#define HS_PLUGIN_ENTRY_POINT "hs_plugin_get_api"

#if defined(_WIN32)
#define HS_PLUGIN_EXPORT __declspec(dllexport)
#else
#define HS_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------
 * Codes
 * ---------------------------------------------------------------------- */

/* Result of a call. Values match absl::StatusCode where one exists. */
typedef int32_t hs_code;
#define HS_OK 0
#define HS_ERR_UNKNOWN 2
#define HS_ERR_INVALID_ARGUMENT 3 /* bad config, params or inputs */
#define HS_ERR_NOT_FOUND 5        /* e.g. an unknown signal name */
#define HS_ERR_RESOURCE_EXHAUSTED 8
#define HS_ERR_FAILED_PRECONDITION 9
#define HS_ERR_UNIMPLEMENTED 12
#define HS_ERR_INTERNAL 13

/* Status of one row (account) in hs_batch_out.row_status_host_ptr. */
#define HS_ROW_OK 0      /* value[i] holds the signal (NaN/inf: missing) */
#define HS_ROW_MISSING 1 /* not enough data for this account; not an error */
#define HS_ROW_ERROR 2   /* the plugin failed on this account; counted */

/* Kind of an input column. */
typedef uint32_t hs_input_kind;
#define HS_INPUT_NUMBER 1 /* one double per row (numbers, numeric derived) */
#define HS_INPUT_SERIES 2 /* a list of doubles per row, oldest first */

/* How evaluate_batch may be called concurrently (hs_plugin_api.threading).
 * The host adds the locking a plugin does not provide. */
typedef uint32_t hs_threading;
/* One call at a time into the whole library (host holds a library lock).
 * The value when the field is 0. */
#define HS_THREADING_SERIAL 0
/* Calls on one signal state never overlap; calls on different signal
 * states may run at once. */
#define HS_THREADING_PER_SIGNAL 1
/* Any calls may overlap, even on the same signal state: the plugin treats
 * signal states as read-only while evaluating. Fastest. */
#define HS_THREADING_CONCURRENT 2

/* Log levels for hs_host_api.log. */
#define HS_LOG_DEBUG 0
#define HS_LOG_INFO 1
#define HS_LOG_WARNING 2
#define HS_LOG_ERROR 3

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

/* A host-owned buffer for an error message.
 * OWNERSHIP: the host owns `message_host_ptr`; the plugin writes at most
 *   `capacity` bytes into it, NUL included (hs_error_set does so).
 * LIFETIME: valid only during the call it is passed to. */
typedef struct hs_error {
  char* message_host_ptr;
  uint32_t capacity;
} hs_error;

/* Writes a printf-style message into `error` (truncated to fit) and
 * returns `code`, so a plugin can write
 *   return hs_error_set(error, HS_ERR_INVALID_ARGUMENT, "bad x: %s", x);
 * `error` may be NULL. */
static inline hs_code hs_error_set(hs_error* error, hs_code code,
                                   const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline hs_code hs_error_set(hs_error* error, hs_code code,
                                   const char* format, ...) {
  if (error != NULL && error->message_host_ptr != NULL && error->capacity > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(error->message_host_ptr, error->capacity, format, args);
    va_end(args);
  }
  return code;
}

/* ------------------------------------------------------------------------
 * The host
 * ---------------------------------------------------------------------- */

/* What the host gives a plugin. Owned by the host; valid from
 * hs_plugin_get_api() until the library is unloaded. Read a field only when
 * struct_size covers it. */
typedef struct hs_host_api {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's HS_PLUGIN_ABI_MAJOR */
  uint32_t abi_minor; /* the host's HS_PLUGIN_ABI_MINOR */
  /* e.g. "healthscore 0.1.0". */
  const char* host_version;
  /* Writes a line to the host's log, attributed to the plugin.
   * THREADING: callable from any thread, during any call. May be NULL. */
  void (*log)(const struct hs_host_api* host, int32_t level,
              const char* message);
} hs_host_api;

/* ------------------------------------------------------------------------
 * Configuration: flat key/value text
 * ---------------------------------------------------------------------- */

/* A flat list of key/value strings: a `plugins:` entry's `config`, or a
 * derived value's `params`, as written in the model. Nested mappings are
 * flattened with dotted keys (`a: {b: 1}` -> "a.b" = "1"), lists of scalars
 * are joined with commas (`[1, 2]` -> "1,2"), and scalars keep their text
 * (`true`, `0.5`, `daily`). Keys are unique and in file order.
 * OWNERSHIP/LIFETIME: host-owned, valid only during the call. */
typedef struct hs_config {
  uint32_t count;
  const char* const* keys;
  const char* const* values;
} hs_config;

/* The value of `key` in `config`, or NULL. */
static inline const char* hs_config_get(const hs_config* config,
                                        const char* key) {
  uint32_t i;
  if (config == NULL || key == NULL) return NULL;
  for (i = 0; i < config->count; ++i) {
    if (strcmp(config->keys[i], key) == 0) return config->values[i];
  }
  return NULL;
}

/* ------------------------------------------------------------------------
 * Describing the plugin
 * ---------------------------------------------------------------------- */

/* One input a signal reads. A model binds it by position: the i-th id in a
 * derived value's `inputs:` feeds the i-th input. Plugin-owned, static. */
typedef struct hs_input_desc {
  uint32_t struct_size;
  const char* name;        /* for messages, e.g. "answers" */
  hs_input_kind kind;      /* HS_INPUT_NUMBER or HS_INPUT_SERIES */
  const char* description; /* may be NULL */
} hs_input_desc;

/* The last declared input may repeat: the model gives it one or more
 * times (e.g. a weighted sum over any number of values). */
#define HS_SIGNAL_VARIADIC 1u

/* One signal a plugin provides. Plugin-owned, static. */
typedef struct hs_signal_desc {
  uint32_t struct_size;
  const char* name;        /* the model's `signal:`; [a-z_][a-z0-9_]* */
  const char* description; /* may be NULL */
  uint32_t input_count;
  /* input_count pointers (pointers, so each descriptor can grow). */
  const hs_input_desc* const* inputs;
  uint32_t flags; /* HS_SIGNAL_* bits */
} hs_signal_desc;

/* Opaque plugin-owned states. */
typedef struct hs_plugin_state hs_plugin_state;
typedef struct hs_signal_state hs_signal_state;

/* ------------------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------------- */

/* One input column for the rows of a batch. hs_column is frozen for ABI
 * major 1 (it is passed as an array): later minors add fields to
 * hs_batch_view instead.
 * OWNERSHIP/LIFETIME: host-owned; valid only during evaluate_batch. */
typedef struct hs_column {
  hs_input_kind kind;
  /* 1 when row i has a value, 0 when it is missing (its value, or its
   * series' points, are then unspecified). n_rows bytes. */
  const uint8_t* valid;
  /* Numbers: n_rows values. Series: the points of all rows back to back;
   * row i's points are values[offsets[i]] .. values[offsets[i+1]-1],
   * oldest first (offsets[0] need not be 0). */
  const double* values;
  /* Series only: n_rows + 1 offsets into `values`. NULL for numbers. */
  const uint32_t* offsets;
} hs_column;

typedef struct hs_batch_view {
  uint32_t struct_size;
  uint32_t n_rows;   /* 1 .. 256 */
  uint32_t n_inputs; /* as bound by the model (see hs_signal_desc) */
  const hs_column* inputs;
} hs_batch_view;

/* Where evaluate_batch writes. The host initialises every row_status to
 * HS_ROW_ERROR and every value to NaN, so a row the plugin leaves alone is
 * an error, never a stale value.
 * OWNERSHIP/LIFETIME: host-owned; valid only during evaluate_batch. */
typedef struct hs_batch_out {
  uint32_t struct_size;
  double* value_host_ptr;       /* n_rows values */
  int32_t* row_status_host_ptr; /* n_rows HS_ROW_* codes */
} hs_batch_out;

/* ------------------------------------------------------------------------
 * The plugin's table
 * ---------------------------------------------------------------------- */

typedef struct hs_plugin_api {
  /* sizeof(hs_plugin_api) as the plugin was compiled. */
  uint32_t struct_size;
  /* HS_PLUGIN_ABI_MAJOR and HS_PLUGIN_ABI_MINOR the plugin was built with. */
  uint32_t abi_major;
  uint32_t abi_minor;

  /* Name ([a-z0-9_-]+), version text (e.g. "1.2.0") and a one-line
   * description (may be NULL). */
  const char* name;
  const char* version;
  const char* description;
  hs_threading threading;

  /* The signals this plugin provides: signal_count pointers. */
  uint32_t signal_count;
  const hs_signal_desc* const* signals;

  /* Creates a plugin state from the model's `config`.
   * @param host    the host table (also given to hs_plugin_get_api).
   * @param config  the `config:` of the model's plugins entry.
   * @param state   out: the new state (may be set to NULL if the plugin
   *                keeps none).
   * @param error   out: a message when the call fails.
   * @return HS_OK, or a code: the model then fails to load with the
   *         message and the plugin's path.
   * OWNERSHIP: *state is plugin-owned until finalize(*state).
   * LIFETIME: host and config as stated on their types.
   * THREADING: serialised per library.
   * May be NULL: the plugin then takes no config and has a NULL state. */
  hs_code (*init)(const hs_host_api* host, const hs_config* config,
                  hs_plugin_state** state, hs_error* error);

  /* Frees a plugin state after every signal created from it is destroyed.
   * THREADING: serialised per library. May be NULL. */
  void (*finalize)(hs_plugin_state* state);

  /* Creates the state of one signal, for one derived value of a model.
   * @param plugin    the state init() returned.
   * @param name      one of the names in `signals` (checked by the host).
   * @param n_inputs  how many inputs the model binds: the declared count,
   *                  or more for a HS_SIGNAL_VARIADIC signal (checked by
   *                  the host against the declared kinds); every
   *                  evaluate_batch of this signal gets this many.
   * @param params    the derived value's `params:`.
   * @param state     out: the signal state (may be NULL if none is needed).
   * @param error     out: a message when the call fails.
   * @return HS_OK, or a code; the model then fails to load.
   * OWNERSHIP: *state is plugin-owned until destroy_signal(*state).
   * THREADING: serialised per library. Required. */
  hs_code (*create_signal)(hs_plugin_state* plugin, const char* name,
                           uint32_t n_inputs, const hs_config* params,
                           hs_signal_state** state, hs_error* error);

  /* Frees a signal state. THREADING: serialised per library. May be NULL. */
  void (*destroy_signal)(hs_plugin_state* plugin, hs_signal_state* state);

  /* Computes the signal for every row of a batch: reads batch->inputs and
   * writes out->value_host_ptr[i] and out->row_status_host_ptr[i] for each
   * row i < batch->n_rows. One call covers a whole chunk; it is never
   * called per row.
   * @return HS_OK when row statuses say how each row went. Any other code
   *   fails the whole call: every row's signal is missing, the message is
   *   recorded and the failure counted; scoring goes on.
   * Rows with HS_ROW_MISSING, HS_ROW_ERROR, or a NaN or infinite value are
   * missing for the signal (the model's other signals still score); errors
   * and non-finite values are counted per plugin.
   * OWNERSHIP/LIFETIME: batch, out and error are host-owned and valid only
   *   during the call.
   * THREADING: as declared in `threading`. Must not block for long: scoring
   *   waits on it. Required. */
  hs_code (*evaluate_batch)(hs_signal_state* signal, const hs_batch_view* batch,
                            hs_batch_out* out, hs_error* error);

  /* New fields go here, after every existing one. */
} hs_plugin_api;

/* The entry point every plugin exports, under the name
 * HS_PLUGIN_ENTRY_POINT:
 *
 *   HS_PLUGIN_EXPORT const hs_plugin_api* hs_plugin_get_api(
 *       const hs_host_api* host);
 *
 * @param host  the host's table; check host->abi_major if needed.
 * @return the plugin's table, or NULL to refuse the host.
 * OWNERSHIP: the table is plugin-owned and static.
 * THREADING: may be called more than once, from any thread; must return the
 *   same table each time and have no other effect. */
typedef const hs_plugin_api* (*hs_plugin_get_api_fn)(const hs_host_api* host);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HEALTHSCORE_PLUGIN_H_ */
