/* A plugin whose init always fails, echoing the config it was given, so a
 * test can also check that the model's config arrives. */

#include <stdlib.h>

#include "healthscore/plugin.h"

static hs_code fail_init(const hs_host_api* host, const hs_config* config,
                         hs_plugin_state** state, hs_error* error) {
  const char* endpoint = hs_config_get(config, "endpoint");
  (void)host;
  *state = NULL;
  return hs_error_set(error, HS_ERR_INVALID_ARGUMENT,
                      "cannot reach endpoint '%s' (%u config keys)",
                      endpoint != NULL ? endpoint : "(none)",
                      (unsigned)config->count);
}
static hs_code never_create(hs_plugin_state* plugin, const char* name,
                            uint32_t n_inputs, const hs_config* params,
                            hs_signal_state** state, hs_error* error) {
  (void)plugin;
  (void)name;
  (void)n_inputs;
  (void)params;
  (void)state;
  (void)error;
  abort();
}
static hs_code never_evaluate(hs_signal_state* signal,
                              const hs_batch_view* batch, hs_batch_out* out,
                              hs_error* error) {
  (void)signal;
  (void)batch;
  (void)out;
  (void)error;
  abort();
}

static const hs_input_desc kX = {sizeof(hs_input_desc), "x", HS_INPUT_NUMBER,
                                 NULL};
static const hs_input_desc* const kInputs[] = {&kX};
static const hs_signal_desc kSignal = {
    sizeof(hs_signal_desc), "echo", NULL, 1, kInputs, 0};
static const hs_signal_desc* const kSignals[] = {&kSignal};

static const hs_plugin_api kApi = {sizeof(hs_plugin_api),
                                   HS_PLUGIN_ABI_MAJOR,
                                   HS_PLUGIN_ABI_MINOR,
                                   "init_fails",
                                   "1.0.0",
                                   NULL,
                                   HS_THREADING_SERIAL,
                                   1,
                                   kSignals,
                                   fail_init,
                                   NULL,
                                   never_create,
                                   NULL,
                                   never_evaluate};

HS_PLUGIN_EXPORT const hs_plugin_api* hs_plugin_get_api(
    const hs_host_api* host) {
  (void)host;
  return &kApi;
}
