// The canonical model hash (model_hash.h, CompiledModel::hash()).

#include "engine/model/model_hash.h"

#include <sstream>
#include <string>
#include <string_view>

#include "engine/model/internal/model_compiler.h"
#include "openssl/evp.h"

namespace healthscore::engine::model {

using internal::ModelCompiler;
using internal::PluginCallText;

// A rendering of everything that affects scoring, in a fixed order, so that
// formatting and comments do not change the hash.
std::string ModelCompiler::CanonicalText() const {
  const CompiledModel& m = *model_;
  std::ostringstream out;
  out.precision(17);
  out << "model " << m.name_ << " " << m.version_ << "\n";
  out << "min_coverage " << spec_.min_coverage << " hysteresis "
      << spec_.hysteresis << " segment_by " << spec_.segment_by << "\n";
  for (const auto& in : m.inputs_) {
    out << "input " << in.id << " " << InputTypeName(in.type);
    if (in.range_min) out << " " << *in.range_min << " " << *in.range_max;
    for (const auto& v : in.values) out << " " << v;
    out << "\n";
  }
  // A plugin is identified by its file's digest as well: a rebuilt
  // library may score differently.
  for (const LoadedPlugin& p : plugins_) {
    out << "plugin " << p.spec->id << " " << p.spec->library;
    if (p.instance != nullptr) {
      const plugin_host::PluginLibrary& lib = p.instance->library();
      out << " " << lib.name() << " " << lib.version() << " " << lib.sha256();
    }
    for (const PluginSetting& c : p.spec->config) {
      out << " " << c.key << "=" << c.value;
    }
    out << "\n";
  }
  for (size_t i = 0; i < derived_exprs_.size(); ++i) {
    const DerivedSpec& d = spec_.derived[i];
    out << "derived " << m.derived_[i].id << " ";
    if (d.uses_plugin) {
      out << "plugin " << PluginCallText(d);
      for (const PluginSetting& p : d.params) {
        out << " " << p.key << "=" << p.value;
      }
    } else if (derived_exprs_[i].root) {
      out << expr::ToString(*derived_exprs_[i].root);
    }
    out << "\n";
  }
  for (const GroupSpec& g : spec_.groups) {
    out << "group " << g.id << " " << g.weight << "\n";
    for (const SignalSpec& s : g.signals) {
      out << " signal " << s.id << " " << s.source << " " << s.weight << " "
          << ToNormalization(s.normalize).ToString()
          << "\n";
      for (const auto& o : s.overrides) {
        out << "  override " << o.segment << " "
            << (o.weight ? *o.weight : -1) << " "
            << (o.normalize ? ToNormalization(*o.normalize).ToString() : "")
            << "\n";
      }
    }
  }
  for (const auto& t : m.tiers_) {
    out << "tier " << t.id << " " << t.min << " " << t.max << "\n";
  }
  for (size_t i = 0; i < spec_.playbooks.size(); ++i) {
    const PlaybookSpec& p = spec_.playbooks[i];
    out << "playbook " << p.id << " " << p.priority << " "
        << (when_exprs_[i].root ? expr::ToString(*when_exprs_[i].root) : "")
        << " | "
        << (success_exprs_[i].root ? expr::ToString(*success_exprs_[i].root)
                                   : "")
        << "\n";
  }
  return out.str();
}

std::string ModelHash(std::string_view canonical_text) {
  std::string hash;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(canonical_text.data(), canonical_text.size(), digest, &len,
             EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    hash.push_back(kHex[digest[i] >> 4]);
    hash.push_back(kHex[digest[i] & 15]);
  }
  return hash;
}

}  // namespace healthscore::engine::model
