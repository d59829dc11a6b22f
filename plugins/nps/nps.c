/*
 * nps: Net Promoter Score from raw survey answers, written in plain C99
 * against healthscore/plugin.h (the template for a plugin without the C++
 * helper).
 *
 * Signal `nps`, one input: a series of 0-10 answers to "how likely are you
 * to recommend us?", oldest first. The value is
 *
 *   100 * (promoters - detractors) / answers      (-100 .. 100)
 *
 * where promoters answered 9 or 10 and detractors 0 to 6 (a fractional
 * answer is a detractor below 7 and a promoter from 9). Params:
 *   window         use only the latest N answers (default 0: all)
 *   min_responses  fewer answers make the signal missing (default 1)
 * An answer outside 0..10 makes that account's row an error.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "healthscore/plugin.h"

typedef struct nps_signal {
  uint32_t window;
  uint32_t min_responses;
} nps_signal;

/* Reads a non-negative integer param; `*out` keeps its default when absent. */
static hs_code read_count(const hs_config* params, const char* key,
                          uint32_t* out, hs_error* error) {
  const char* text = hs_config_get(params, key);
  char* end = NULL;
  long value;
  if (text == NULL) return HS_OK;
  value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < 0 || value > 1000000) {
    return hs_error_set(error, HS_ERR_INVALID_ARGUMENT,
                        "'%s' must be an integer from 0 to 1000000, got '%s'",
                        key, text);
  }
  *out = (uint32_t)value;
  return HS_OK;
}

static hs_code nps_init(const hs_host_api* host, const hs_config* config,
                        hs_plugin_state** state, hs_error* error) {
  (void)host;
  *state = NULL;
  if (config->count > 0) {
    return hs_error_set(error, HS_ERR_INVALID_ARGUMENT,
                        "nps takes no config, got '%s'; per-signal settings "
                        "go in the derived value's params",
                        config->keys[0]);
  }
  return HS_OK;
}

static hs_code nps_create_signal(hs_plugin_state* plugin, const char* name,
                                 uint32_t n_inputs, const hs_config* params,
                                 hs_signal_state** state, hs_error* error) {
  nps_signal* s;
  uint32_t i;
  hs_code code;
  (void)plugin;
  /* The host only asks for signals the table lists, with their inputs. */
  (void)name;
  (void)n_inputs;
  for (i = 0; i < params->count; ++i) {
    const char* key = params->keys[i];
    if (strcmp(key, "window") != 0 && strcmp(key, "min_responses") != 0) {
      return hs_error_set(error, HS_ERR_INVALID_ARGUMENT,
                          "unknown param '%s' (known: window, "
                          "min_responses)",
                          key);
    }
  }
  s = (nps_signal*)malloc(sizeof *s);
  if (s == NULL) {
    return hs_error_set(error, HS_ERR_RESOURCE_EXHAUSTED, "out of memory");
  }
  s->window = 0;
  s->min_responses = 1;
  if ((code = read_count(params, "window", &s->window, error)) != HS_OK ||
      (code = read_count(params, "min_responses", &s->min_responses, error)) !=
          HS_OK) {
    free(s);
    return code;
  }
  if (s->min_responses == 0) s->min_responses = 1;
  *state = (hs_signal_state*)s;
  return HS_OK;
}

static void nps_destroy_signal(hs_plugin_state* plugin,
                               hs_signal_state* state) {
  (void)plugin;
  free(state);
}

static hs_code nps_evaluate(hs_signal_state* state, const hs_batch_view* batch,
                            hs_batch_out* out, hs_error* error) {
  const nps_signal* s = (const nps_signal*)state;
  const hs_column* answers = &batch->inputs[0];
  double* value = out->value_host_ptr;
  int32_t* status = out->row_status_host_ptr;
  uint32_t i;
  (void)error;
  for (i = 0; i < batch->n_rows; ++i) {
    uint32_t begin = answers->offsets[i];
    const uint32_t end = answers->offsets[i + 1];
    uint32_t j, promoters = 0, detractors = 0, bad = 0;
    if (!answers->valid[i]) {
      status[i] = HS_ROW_MISSING;
      continue;
    }
    if (s->window > 0 && end - begin > s->window) begin = end - s->window;
    if (end - begin < s->min_responses) {
      status[i] = HS_ROW_MISSING;
      continue;
    }
    for (j = begin; j < end; ++j) {
      const double x = answers->values[j];
      bad |= !(x >= 0.0 && x <= 10.0);
      promoters += x >= 9.0;
      detractors += x < 7.0;
    }
    if (bad) {
      status[i] = HS_ROW_ERROR;
      continue;
    }
    value[i] = 100.0 * ((double)promoters - (double)detractors) /
               (double)(end - begin);
    status[i] = HS_ROW_OK;
  }
  return HS_OK;
}

static const hs_input_desc kAnswers = {
    sizeof(hs_input_desc), "answers", HS_INPUT_SERIES,
    "survey answers on the 0-10 scale, oldest first"};
static const hs_input_desc* const kNpsInputs[] = {&kAnswers};
static const hs_signal_desc kNps = {
    sizeof(hs_signal_desc),
    "nps",
    "Net Promoter Score: % promoters (9-10) - % detractors (0-6)",
    1,
    kNpsInputs,
    0};
static const hs_signal_desc* const kSignals[] = {&kNps};

static const hs_plugin_api kApi = {
    sizeof(hs_plugin_api),
    HS_PLUGIN_ABI_MAJOR,
    HS_PLUGIN_ABI_MINOR,
    "nps",
    "1.0.0",
    "Net Promoter Score from raw 0-10 survey answers",
    HS_THREADING_CONCURRENT,
    1,
    kSignals,
    nps_init,
    NULL,
    nps_create_signal,
    nps_destroy_signal,
    nps_evaluate,
};

HS_PLUGIN_EXPORT const hs_plugin_api* hs_plugin_get_api(
    const hs_host_api* host) {
  (void)host;
  return &kApi;
}
