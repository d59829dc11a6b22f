#include "server/fleet.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "healthscore/v1/model.grpc.pb.h"
#include "server/options.h"

namespace healthscore::server {
namespace {

std::unique_ptr<grpc::ClientContext> Context(const FleetOptions& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  if (!options.token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", options.token));
  }
  return context;
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

FleetReplica Ask(const std::string& target, const FleetOptions& options) {
  FleetReplica replica;
  replica.target = target;
  grpc::ChannelArguments args;
  // One connection per replica, never shared with another target's.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!options.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_ca_pem;
    ssl.pem_cert_chain = options.tls_cert_pem;
    ssl.pem_private_key = options.tls_key_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, credentials, args);
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health;
  grpc::Status s = grpc::health::v1::Health::NewStub(channel)->Check(
      Context(options).get(), health_request, &health);
  if (!s.ok()) {
    replica.status = FromGrpc(s, "health check");
    return replica;
  }
  replica.health =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
          health.status());
  v1::ListModelsResponse listed;
  s = v1::ModelService::NewStub(channel)->ListModels(
      Context(options).get(), v1::ListModelsRequest(), &listed);
  if (!s.ok()) {
    replica.status = FromGrpc(s, "ListModels");
    return replica;
  }
  replica.default_model = listed.default_model();
  for (const v1::ModelStatus& m : listed.models()) {
    FleetModel model;
    model.name = m.name();
    model.version = m.serving_version();
    for (const v1::ModelVersionStatus& v : m.versions()) {
      if (!v.loaded()) ++model.failed_versions;
      if (v.version() == m.serving_version()) {
        model.label = v.label();
        model.hash = v.hash();
      }
    }
    replica.models.push_back(std::move(model));
  }
  std::sort(replica.models.begin(), replica.models.end(),
            [](const FleetModel& a, const FleetModel& b) {
              return a.name < b.name;
            });
  return replica;
}

std::string Short(const std::string& hash) {
  return hash.size() > 16 ? hash.substr(0, 16) : hash;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFleetTargets(
    absl::string_view text) {
  std::vector<std::string> targets;
  std::set<std::string> seen;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--targets: an empty entry in '", text,
          "'; give HOST:PORT,HOST:PORT,..."));
    }
    absl::StatusOr<ListenAddress> address = ParseListenAddress(entry);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--targets: ", address.status().message()));
    }
    if (address->port == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--targets: '", entry, "' has port 0; give the replica's port"));
    }
    if (!seen.insert(std::string(entry)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--targets: '", entry, "' is given twice"));
    }
    if (targets.size() == kMaxFleetTargets) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--targets: more than ", kMaxFleetTargets, " replicas"));
    }
    targets.emplace_back(entry);
  }
  return targets;
}

FleetReport CheckFleet(const std::vector<std::string>& targets,
                       const FleetOptions& options) {
  FleetReport report;
  for (const std::string& target : targets) {
    report.replicas.push_back(Ask(target, options));
  }
  JudgeFleet(&report);
  return report;
}

void JudgeFleet(FleetReport* report) {
  report->problems.clear();
  std::vector<const FleetReplica*> answered;
  for (const FleetReplica& r : report->replicas) {
    if (!r.status.ok()) {
      report->problems.push_back(absl::StrCat(
          r.target, " could not be asked: ", r.status.message()));
      continue;
    }
    if (r.health != "SERVING") {
      report->problems.push_back(
          absl::StrCat(r.target, " is ", r.health, ", not SERVING"));
    }
    answered.push_back(&r);
  }
  // For each model name: what each replica serves ("version 3, hash H" or
  // "nothing") -> the replicas serving it.
  std::set<std::string> names;
  for (const FleetReplica* r : answered) {
    for (const FleetModel& m : r->models) names.insert(m.name);
  }
  auto describe = [](const FleetModel* m) {
    if (m == nullptr) return std::string("no such model");
    if (m->version.empty()) return std::string("no version loaded");
    std::string text =
        absl::StrCat("version ", m->version, " hash ", Short(m->hash));
    // A version that loads on one replica and fails on another means their
    // files differ, whatever serves now.
    if (m->failed_versions > 0) {
      absl::StrAppend(&text, ", ", m->failed_versions, " failed version",
                      m->failed_versions == 1 ? "" : "s");
    }
    return text;
  };
  for (const std::string& name : names) {
    std::map<std::string, std::vector<std::string>> variants;
    for (const FleetReplica* r : answered) {
      const FleetModel* found = nullptr;
      for (const FleetModel& m : r->models) {
        if (m.name == name) found = &m;
      }
      variants[describe(found)].push_back(r->target);
    }
    if (variants.size() > 1) {
      std::vector<std::string> parts;
      for (const auto& [what, targets] : variants) {
        parts.push_back(
            absl::StrCat(what, " on ", absl::StrJoin(targets, ", ")));
      }
      report->problems.push_back(absl::StrCat(
          "model ", name, " differs: ", absl::StrJoin(parts, "; ")));
    }
  }
  std::map<std::string, std::vector<std::string>> defaults;
  for (const FleetReplica* r : answered) {
    defaults[r->default_model].push_back(r->target);
  }
  if (defaults.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [model, targets] : defaults) {
      parts.push_back(absl::StrCat(model, " on ", absl::StrJoin(targets, ", ")));
    }
    report->problems.push_back(absl::StrCat("the default model differs: ",
                                            absl::StrJoin(parts, "; ")));
  }
  report->consistent = report->problems.empty() && !report->replicas.empty();
}

std::string FormatFleetReport(const FleetReport& report) {
  std::string out = absl::StrFormat("%-22s %-12s %-20s %-8s %-12s %s\n",
                                    "REPLICA", "HEALTH", "MODEL", "VERSION",
                                    "LABEL", "HASH");
  for (const FleetReplica& r : report.replicas) {
    if (!r.status.ok()) {
      absl::StrAppend(&out, absl::StrFormat("%-22s %-12s %s\n", r.target,
                                            "UNREACHABLE", r.status.message()));
      continue;
    }
    if (r.models.empty()) {
      absl::StrAppend(&out, absl::StrFormat("%-22s %-12s (no models)\n",
                                            r.target, r.health));
    }
    for (const FleetModel& m : r.models) {
      std::string name = m.name == r.default_model
                             ? absl::StrCat(m.name, " (default)")
                             : m.name;
      std::string hash = m.version.empty() ? "-" : Short(m.hash);
      if (m.failed_versions > 0) {
        absl::StrAppend(&hash, "  (", m.failed_versions, " failed version",
                        m.failed_versions == 1 ? "" : "s", ")");
      }
      absl::StrAppend(
          &out, absl::StrFormat("%-22s %-12s %-20s %-8s %-12s %s\n", r.target,
                                r.health, name,
                                m.version.empty() ? "-" : m.version,
                                m.label.empty() ? "-" : m.label, hash));
    }
  }
  for (const std::string& p : report.problems) {
    absl::StrAppend(&out, "problem: ", p, "\n");
  }
  if (report.consistent) {
    size_t models = report.replicas.front().models.size();
    absl::StrAppend(&out, "fleet: consistent: ", report.replicas.size(),
                    " replica", report.replicas.size() == 1 ? "" : "s",
                    " SERVING the same ", models, " model",
                    models == 1 ? "" : "s", " (same versions and hashes)\n");
  } else {
    absl::StrAppend(&out, "fleet: INCONSISTENT: ", report.problems.size(),
                    " problem", report.problems.size() == 1 ? "" : "s",
                    " over ", report.replicas.size(), " replica",
                    report.replicas.size() == 1 ? "" : "s", "\n");
  }
  return out;
}

}  // namespace healthscore::server
