// Parser for the expression language.
//
// Grammar (loosest binding first):
//   expr    := or ( '?' expr ':' expr )?
//   or      := and ( '||' and )*
//   and     := rel ( '&&' rel )*
//   rel     := add ( ('<'|'<='|'>'|'>='|'=='|'!=') add | 'in' list )?
//   add     := mul ( ('+'|'-') mul )*
//   mul     := unary ( ('*'|'/') unary )*
//   unary   := ('!'|'-') unary | primary
//   primary := NUMBER | STRING | 'true' | 'false' | list
//            | IDENT ('.' IDENT)* ( '(' args? ')' )? | '(' expr ')'
//   list    := '[' ( expr (',' expr)* )? ']'
// Comparisons do not chain (`a < b < c` is an error, as in most languages).
//
// An expression over any of the ExpressionLimits (limits.h: length, node
// count, nesting depth) is an error located where the limit is passed, so
// every tree Parse() returns is safe for the recursive passes over it.
//
// Thread-safety: pure function.

#ifndef HEALTHSCORE_ENGINE_EXPR_PARSER_H_
#define HEALTHSCORE_ENGINE_EXPR_PARSER_H_

#include <memory>
#include <string>
#include <string_view>

#include "engine/expr/ast.h"
#include "engine/expr/limits.h"

namespace healthscore::engine::expr {

struct ParseError {
  Pos pos;
  std::string message;
  std::string hint;
};

struct ParseResult {
  std::unique_ptr<Node> root;  // null on error
  ParseError error;            // set when root is null
  bool ok() const { return root != nullptr; }
};

ParseResult Parse(std::string_view text);

// Every identifier (dotted names whole) the tree reads, in order of first
// appearance; function names excluded. Appends to `out`; names already in
// it are not repeated.
void CollectIdentifiers(const Node& node, std::vector<std::string>* out);

// Renders a tree back to text (for diagnostics and canonical hashing).
std::string ToString(const Node& node);

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_PARSER_H_
