/* A shared library that is not a plugin: it exports a function, but not
 * hs_plugin_get_api. */

#include "healthscore/plugin.h"

HS_PLUGIN_EXPORT int hs_plugin_version(void) { return 1; }
