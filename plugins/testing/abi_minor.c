/* A plugin built against a newer ABI minor than the host implements: the
 * host must refuse it right after hs_plugin_get_api() and call nothing else
 * (those calls abort). */

#include <stdlib.h>

#include "healthscore/plugin.h"

static hs_code never_init(const hs_host_api* host, const hs_config* config,
                          hs_plugin_state** state, hs_error* error) {
  (void)host;
  (void)config;
  (void)state;
  (void)error;
  abort();
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
                                   HS_PLUGIN_ABI_MINOR + 1,
                                   "abi_minor",
                                   "1.0.0",
                                   NULL,
                                   HS_THREADING_CONCURRENT,
                                   1,
                                   kSignals,
                                   never_init,
                                   NULL,
                                   never_create,
                                   NULL,
                                   never_evaluate};

HS_PLUGIN_EXPORT const hs_plugin_api* hs_plugin_get_api(
    const hs_host_api* host) {
  (void)host;
  return &kApi;
}
