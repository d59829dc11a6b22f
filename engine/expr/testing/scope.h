// A Scope over a fixed table of names, for expression tests.

#ifndef HEALTHSCORE_ENGINE_EXPR_TESTING_SCOPE_H_
#define HEALTHSCORE_ENGINE_EXPR_TESTING_SCOPE_H_

#include <map>
#include <string>
#include <vector>

#include "engine/expr/checker.h"

namespace healthscore::engine::expr::testing {

class TestingScope : public Scope {
 public:
  void Add(const std::string& name, Symbol s) { symbols_[name] = s; }
  // String symbols: literals get codes in order of first use.
  const Symbol* Lookup(std::string_view name) const override {
    auto it = symbols_.find(std::string(name));
    return it == symbols_.end() ? nullptr : &it->second;
  }
  std::string Suggest(std::string_view name) const override {
    return "suggestion for " + std::string(name);
  }
  bool StringCode(const Symbol&, std::string_view literal, int32_t* code,
                  std::string* error, std::string*) override {
    if (literal == "forbidden") {
      *error = "forbidden literal";
      return false;
    }
    if (literal == "refused_silently") return false;  // a buggy scope
    auto [it, inserted] =
        codes_.emplace(std::string(literal), static_cast<int32_t>(codes_.size()));
    *code = it->second;
    return true;
  }
  int32_t CodeOf(const std::string& literal) const { return codes_.at(literal); }

 private:
  std::map<std::string, Symbol> symbols_;
  std::map<std::string, int32_t> codes_;
};

}  // namespace healthscore::engine::expr::testing

#endif  // HEALTHSCORE_ENGINE_EXPR_TESTING_SCOPE_H_
