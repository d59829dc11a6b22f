#include "engine/expr/parser.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace healthscore::engine::expr {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kUnknown: return "unknown";
    case Type::kNumber: return "number";
    case Type::kBool: return "bool";
    case Type::kString: return "string";
    case Type::kDate: return "date";
    case Type::kSeries: return "series";
    case Type::kStringList: return "list of strings";
  }
  return "unknown";
}

const char* OpText(Op op) {
  switch (op) {
    case Op::kNone: return "";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kAnd: return "&&";
    case Op::kOr: return "||";
    case Op::kIn: return "in";
    case Op::kNot: return "!";
    case Op::kNeg: return "-";
  }
  return "";
}

namespace {

enum class Tok {
  kEnd, kNumber, kString, kIdent, kLParen, kRParen, kLBracket, kRBracket,
  kComma, kDot, kQuestion, kColon, kPlus, kMinus, kStar, kSlash, kBang,
  kLt, kLe, kGt, kGe, kEqEq, kNe, kAndAnd, kOrOr, kError,
};

struct Token {
  Tok kind = Tok::kEnd;
  Pos pos;
  std::string text;  // identifier, string value, or error message
  double number = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token Next() {
    SkipSpace();
    Token t;
    t.pos = {line_, col_};
    if (i_ >= s_.size()) return t;
    char c = s_[i_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i_ + 1 < s_.size() &&
         std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
      return Number(t);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i_;
      while (i_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
              s_[i_] == '_')) {
        Advance();
      }
      t.kind = Tok::kIdent;
      t.text = std::string(s_.substr(start, i_ - start));
      return t;
    }
    if (c == '"' || c == '\'') return String(t, c);
    Advance();
    auto two = [&](char next, Tok yes, Tok no) {
      if (i_ < s_.size() && s_[i_] == next) {
        Advance();
        return yes;
      }
      return no;
    };
    switch (c) {
      case '(': t.kind = Tok::kLParen; break;
      case ')': t.kind = Tok::kRParen; break;
      case '[': t.kind = Tok::kLBracket; break;
      case ']': t.kind = Tok::kRBracket; break;
      case ',': t.kind = Tok::kComma; break;
      case '.': t.kind = Tok::kDot; break;
      case '?': t.kind = Tok::kQuestion; break;
      case ':': t.kind = Tok::kColon; break;
      case '+': t.kind = Tok::kPlus; break;
      case '-': t.kind = Tok::kMinus; break;
      case '*': t.kind = Tok::kStar; break;
      case '/': t.kind = Tok::kSlash; break;
      case '!': t.kind = two('=', Tok::kNe, Tok::kBang); break;
      case '<': t.kind = two('=', Tok::kLe, Tok::kLt); break;
      case '>': t.kind = two('=', Tok::kGe, Tok::kGt); break;
      case '=':
        t.kind = two('=', Tok::kEqEq, Tok::kError);
        if (t.kind == Tok::kError) t.text = "'=' is not an operator";
        break;
      case '&':
        t.kind = two('&', Tok::kAndAnd, Tok::kError);
        if (t.kind == Tok::kError) t.text = "'&' is not an operator";
        break;
      case '|':
        t.kind = two('|', Tok::kOrOr, Tok::kError);
        if (t.kind == Tok::kError) t.text = "'|' is not an operator";
        break;
      default:
        t.kind = Tok::kError;
        t.text = absl::StrCat("unexpected character '",
                              std::string(1, c), "'");
    }
    return t;
  }

 private:
  void Advance() {
    if (s_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }
  void SkipSpace() {
    while (i_ < s_.size() &&
           std::isspace(static_cast<unsigned char>(s_[i_]))) {
      Advance();
    }
  }
  Token Number(Token t) {
    size_t start = i_;
    while (i_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[i_])) ||
            s_[i_] == '.')) {
      Advance();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t save_i = i_;
      int save_col = col_;
      Advance();
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) Advance();
      if (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        while (i_ < s_.size() &&
               std::isdigit(static_cast<unsigned char>(s_[i_]))) {
          Advance();
        }
      } else {
        i_ = save_i;
        col_ = save_col;
      }
    }
    std::string text(s_.substr(start, i_ - start));
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) {
      t.kind = Tok::kError;
      t.text = absl::StrCat("malformed number '", text, "'");
      return t;
    }
    t.kind = Tok::kNumber;
    t.number = v;
    t.text = text;
    return t;
  }
  Token String(Token t, char quote) {
    Advance();
    std::string value;
    while (i_ < s_.size() && s_[i_] != quote) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        Advance();
        char e = s_[i_];
        value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        value.push_back(s_[i_]);
      }
      Advance();
    }
    if (i_ >= s_.size()) {
      t.kind = Tok::kError;
      t.text = "unterminated string";
      return t;
    }
    Advance();
    t.kind = Tok::kString;
    t.text = std::move(value);
    return t;
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
};

const char* TokName(Tok t) {
  switch (t) {
    case Tok::kEnd: return "end of expression";
    case Tok::kNumber: return "number";
    case Tok::kString: return "string";
    case Tok::kIdent: return "name";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kLBracket: return "'['";
    case Tok::kRBracket: return "']'";
    case Tok::kComma: return "','";
    case Tok::kDot: return "'.'";
    case Tok::kQuestion: return "'?'";
    case Tok::kColon: return "':'";
    case Tok::kPlus: return "'+'";
    case Tok::kMinus: return "'-'";
    case Tok::kStar: return "'*'";
    case Tok::kSlash: return "'/'";
    case Tok::kBang: return "'!'";
    case Tok::kLt: return "'<'";
    case Tok::kLe: return "'<='";
    case Tok::kGt: return "'>'";
    case Tok::kGe: return "'>='";
    case Tok::kEqEq: return "'=='";
    case Tok::kNe: return "'!='";
    case Tok::kAndAnd: return "'&&'";
    case Tok::kOrOr: return "'||'";
    case Tok::kError: return "invalid token";
  }
  return "token";
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) { tok_ = lex_.Next(); }

  ParseResult Run() {
    ParseResult r;
    auto root = Expr();
    if (root && tok_.kind != Tok::kEnd) {
      Fail(tok_.pos, absl::StrCat("unexpected ", Describe(tok_),
                                  " after the end of the expression"),
           tok_.kind == Tok::kLt || tok_.kind == Tok::kGt ||
                   tok_.kind == Tok::kLe || tok_.kind == Tok::kGe
               ? "comparisons do not chain: write `a < b && b < c`"
               : "");
      root = nullptr;
    }
    if (failed_) {
      r.error = error_;
      return r;
    }
    r.root = std::move(root);
    return r;
  }

 private:
  using NodePtr = std::unique_ptr<Node>;

  std::string Describe(const Token& t) {
    if (t.kind == Tok::kIdent) return absl::StrCat("name '", t.text, "'");
    if (t.kind == Tok::kNumber) return absl::StrCat("number ", t.text);
    if (t.kind == Tok::kString) return absl::StrCat("string \"", t.text, "\"");
    return TokName(t.kind);
  }

  void Fail(Pos pos, std::string message, std::string hint = "") {
    if (failed_) return;
    failed_ = true;
    error_ = {pos, std::move(message), std::move(hint)};
  }

  void Bump() {
    tok_ = lex_.Next();
    if (tok_.kind == Tok::kError) Fail(tok_.pos, tok_.text);
  }

  bool Expect(Tok kind, const char* what) {
    if (tok_.kind == kind) {
      Bump();
      return true;
    }
    Fail(tok_.pos, absl::StrCat("expected ", what, ", found ", Describe(tok_)));
    return false;
  }

  NodePtr Make(NodeKind kind, Pos pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }

  NodePtr Binary(Op op, Pos pos, NodePtr a, NodePtr b) {
    auto n = Make(NodeKind::kBinary, pos);
    n->op = op;
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p(p) { ++p->depth_; }
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };

  NodePtr Expr() {
    DepthGuard guard(this);
    if (depth_ > kMaxExpressionDepth) {
      Fail(tok_.pos, absl::StrCat("expression nested deeper than ",
                                  kMaxExpressionDepth, " levels"));
      return nullptr;
    }
    Pos pos = tok_.pos;
    NodePtr cond = Or();
    if (!cond || tok_.kind != Tok::kQuestion) return cond;
    Bump();
    NodePtr a = Expr();
    if (!a || !Expect(Tok::kColon, "':' of the conditional `c ? a : b`")) {
      return nullptr;
    }
    NodePtr b = Expr();
    if (!b) return nullptr;
    auto n = Make(NodeKind::kConditional, pos);
    n->children.push_back(std::move(cond));
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  NodePtr Or() {
    NodePtr left = And();
    while (left && tok_.kind == Tok::kOrOr) {
      Pos pos = tok_.pos;
      Bump();
      NodePtr right = And();
      if (!right) return nullptr;
      left = Binary(Op::kOr, pos, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr And() {
    NodePtr left = Rel();
    while (left && tok_.kind == Tok::kAndAnd) {
      Pos pos = tok_.pos;
      Bump();
      NodePtr right = Rel();
      if (!right) return nullptr;
      left = Binary(Op::kAnd, pos, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr Rel() {
    NodePtr left = Add();
    if (!left) return nullptr;
    Op op = Op::kNone;
    switch (tok_.kind) {
      case Tok::kLt: op = Op::kLt; break;
      case Tok::kLe: op = Op::kLe; break;
      case Tok::kGt: op = Op::kGt; break;
      case Tok::kGe: op = Op::kGe; break;
      case Tok::kEqEq: op = Op::kEq; break;
      case Tok::kNe: op = Op::kNe; break;
      case Tok::kIdent:
        if (tok_.text == "in") op = Op::kIn;
        break;
      default: break;
    }
    if (op == Op::kNone) return left;
    Pos pos = tok_.pos;
    Bump();
    NodePtr right;
    if (op == Op::kIn) {
      if (tok_.kind != Tok::kLBracket) {
        Fail(tok_.pos, absl::StrCat("expected a list after 'in', found ",
                                    Describe(tok_)),
             "write `segment in [\"smb\", \"mid_market\"]`");
        return nullptr;
      }
      right = Primary();
    } else {
      right = Add();
    }
    if (!right) return nullptr;
    return Binary(op, pos, std::move(left), std::move(right));
  }

  NodePtr Add() {
    NodePtr left = Mul();
    while (left && (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus)) {
      Op op = tok_.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      Pos pos = tok_.pos;
      Bump();
      NodePtr right = Mul();
      if (!right) return nullptr;
      left = Binary(op, pos, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr Mul() {
    NodePtr left = Unary();
    while (left && (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash)) {
      Op op = tok_.kind == Tok::kStar ? Op::kMul : Op::kDiv;
      Pos pos = tok_.pos;
      Bump();
      NodePtr right = Unary();
      if (!right) return nullptr;
      left = Binary(op, pos, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr Unary() {
    DepthGuard guard(this);
    if (depth_ > kMaxExpressionDepth) {
      Fail(tok_.pos, absl::StrCat("expression nested deeper than ",
                                  kMaxExpressionDepth, " levels"));
      return nullptr;
    }
    if (tok_.kind == Tok::kBang || tok_.kind == Tok::kMinus) {
      Op op = tok_.kind == Tok::kBang ? Op::kNot : Op::kNeg;
      Pos pos = tok_.pos;
      Bump();
      NodePtr operand = Unary();
      if (!operand) return nullptr;
      if (op == Op::kNeg && operand->kind == NodeKind::kNumber) {
        operand->number = -operand->number;
        operand->pos = pos;
        return operand;
      }
      auto n = Make(NodeKind::kUnary, pos);
      n->op = op;
      n->children.push_back(std::move(operand));
      return n;
    }
    return Primary();
  }

  NodePtr Primary() {
    if (failed_) return nullptr;
    Token t = tok_;
    switch (t.kind) {
      case Tok::kNumber: {
        Bump();
        auto n = Make(NodeKind::kNumber, t.pos);
        n->number = t.number;
        return n;
      }
      case Tok::kString: {
        Bump();
        auto n = Make(NodeKind::kString, t.pos);
        n->text = t.text;
        return n;
      }
      case Tok::kLParen: {
        Bump();
        NodePtr e = Expr();
        if (!e || !Expect(Tok::kRParen, "')'")) return nullptr;
        return e;
      }
      case Tok::kLBracket: {
        Bump();
        auto n = Make(NodeKind::kList, t.pos);
        if (tok_.kind != Tok::kRBracket) {
          while (true) {
            NodePtr item = Expr();
            if (!item) return nullptr;
            n->children.push_back(std::move(item));
            if (tok_.kind != Tok::kComma) break;
            Bump();
          }
        }
        if (!Expect(Tok::kRBracket, "']' to close the list")) return nullptr;
        return n;
      }
      case Tok::kIdent: {
        if (t.text == "true" || t.text == "false") {
          Bump();
          auto n = Make(NodeKind::kBool, t.pos);
          n->boolean = t.text == "true";
          return n;
        }
        Bump();
        std::string name = t.text;
        while (tok_.kind == Tok::kDot) {
          Bump();
          if (tok_.kind != Tok::kIdent) {
            Fail(tok_.pos, absl::StrCat("expected a name after '.', found ",
                                        Describe(tok_)));
            return nullptr;
          }
          absl::StrAppend(&name, ".", tok_.text);
          Bump();
        }
        if (tok_.kind == Tok::kLParen) {
          Bump();
          auto n = Make(NodeKind::kCall, t.pos);
          n->text = name;
          if (tok_.kind != Tok::kRParen) {
            while (true) {
              NodePtr arg = Expr();
              if (!arg) return nullptr;
              n->children.push_back(std::move(arg));
              if (tok_.kind != Tok::kComma) break;
              Bump();
            }
          }
          if (!Expect(Tok::kRParen, "')' to close the call")) return nullptr;
          return n;
        }
        auto n = Make(NodeKind::kIdent, t.pos);
        n->text = name;
        return n;
      }
      case Tok::kEnd:
        Fail(t.pos, "expression ends too early",
             t.pos.line == 1 && t.pos.column == 1 ? "write an expression"
                                                  : "");
        return nullptr;
      case Tok::kError:
        Fail(t.pos, t.text);
        return nullptr;
      default:
        Fail(t.pos, absl::StrCat("unexpected ", Describe(t)));
        return nullptr;
    }
  }

  Lexer lex_;
  Token tok_;
  bool failed_ = false;
  ParseError error_;
  int depth_ = 0;
};

void RenderTo(const Node& n, std::string* out) {
  switch (n.kind) {
    case NodeKind::kNumber: {
      char buf[32];
      snprintf(buf, sizeof(buf), "%.17g", n.number);
      out->append(buf);
      return;
    }
    case NodeKind::kString:
      out->push_back('"');
      for (char c : n.text) {
        if (c == '"' || c == '\\') out->push_back('\\');
        out->push_back(c);
      }
      out->push_back('"');
      return;
    case NodeKind::kBool:
      out->append(n.boolean ? "true" : "false");
      return;
    case NodeKind::kIdent:
      out->append(n.text);
      return;
    case NodeKind::kList:
    case NodeKind::kCall: {
      if (n.kind == NodeKind::kCall) out->append(n.text);
      out->push_back(n.kind == NodeKind::kCall ? '(' : '[');
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out->append(", ");
        RenderTo(*n.children[i], out);
      }
      out->push_back(n.kind == NodeKind::kCall ? ')' : ']');
      return;
    }
    case NodeKind::kUnary:
      out->append(OpText(n.op));
      out->push_back('(');
      RenderTo(*n.children[0], out);
      out->push_back(')');
      return;
    case NodeKind::kBinary:
      out->push_back('(');
      RenderTo(*n.children[0], out);
      out->push_back(' ');
      out->append(OpText(n.op));
      out->push_back(' ');
      RenderTo(*n.children[1], out);
      out->push_back(')');
      return;
    case NodeKind::kConditional:
      out->push_back('(');
      RenderTo(*n.children[0], out);
      out->append(" ? ");
      RenderTo(*n.children[1], out);
      out->append(" : ");
      RenderTo(*n.children[2], out);
      out->push_back(')');
      return;
  }
}

}  // namespace

ParseResult Parse(std::string_view text) { return Parser(text).Run(); }

void CollectIdentifiers(const Node& node, std::vector<std::string>* out) {
  if (node.kind == NodeKind::kIdent) {
    for (const auto& s : *out) {
      if (s == node.text) return;
    }
    out->push_back(node.text);
    return;
  }
  for (const auto& c : node.children) CollectIdentifiers(*c, out);
}

std::string ToString(const Node& node) {
  std::string out;
  RenderTo(node, &out);
  return out;
}

}  // namespace healthscore::engine::expr
