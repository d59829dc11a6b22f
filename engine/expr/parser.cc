#include "engine/expr/parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_set>
#include <utility>

#include "absl/base/attributes.h"
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
    NodePtr root = Expr();
    if (root && tok_.kind != Tok::kEnd) {
      Fail(tok_.pos, absl::StrCat("unexpected ", Describe(tok_),
                                  " after the end of the expression"),
           tok_.kind == Tok::kLt || tok_.kind == Tok::kGt ||
                   tok_.kind == Tok::kLe || tok_.kind == Tok::kGe
               ? "comparisons do not chain: write `a < b && b < c`"
               : "");
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
  using Limits = ExpressionLimits;

  std::string Describe(const Token& t) {
    if (t.kind == Tok::kIdent) return absl::StrCat("name '", t.text, "'");
    if (t.kind == Tok::kNumber) return absl::StrCat("number ", t.text);
    if (t.kind == Tok::kString) return absl::StrCat("string \"", t.text, "\"");
    return TokName(t.kind);
  }

  // Bump, Make and the other helpers that build messages are not inlined:
  // their temporaries would otherwise sit in every frame of the recursion.

  ABSL_ATTRIBUTE_NOINLINE void Fail(Pos pos, std::string message,
                                    std::string hint = "") {
    if (failed_) return;
    failed_ = true;
    error_ = {pos, std::move(message), std::move(hint)};
  }

  ABSL_ATTRIBUTE_NOINLINE void FailTooDeep(Pos pos) {
    Fail(pos,
         absl::StrCat("expression is nested too deeply: more than ",
                      Limits::kMaxDepth,
                      " levels (every operator, call, list and pair of "
                      "parentheses is one level; a + b + c is two)"),
         "split it into derived values, or group a long chain with "
         "parentheses: (a + b + c) + (d + e + f)");
  }

  ABSL_ATTRIBUTE_NOINLINE void Bump() {
    tok_ = lex_.Next();
    if (tok_.kind == Tok::kError) Fail(tok_.pos, tok_.text);
  }

  ABSL_ATTRIBUTE_NOINLINE bool Expect(Tok kind, const char* what) {
    if (tok_.kind == kind) {
      Bump();
      return true;
    }
    Fail(tok_.pos, absl::StrCat("expected ", what, ", found ", Describe(tok_)));
    return false;
  }

  // Every node is made here, so that the node count is exact. Past the
  // limit the parse has failed; the node is still returned (callers need
  // not check) and the next Primary() ends the parse.
  ABSL_ATTRIBUTE_NOINLINE NodePtr Make(NodeKind kind, Pos pos) {
    if (++nodes_ > Limits::kMaxNodes) {
      Fail(pos,
           absl::StrCat("expression is too large: more than ",
                        Limits::kMaxNodes,
                        " names, literals, operators and calls"),
           "split it into derived values");
    }
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }

  // Sets the nesting of a node whose children are complete. Loops build
  // flat chains without recursing, so this is where their depth is bounded.
  void Nest(Node* n) {
    int deepest = 0;
    for (const NodePtr& c : n->children) {
      deepest = std::max(deepest, c->nesting);
    }
    SetNesting(n, deepest + 1, n->pos);
  }
  // `at` locates the error: the operator, or the '(' of a group.
  ABSL_ATTRIBUTE_NOINLINE void SetNesting(Node* n, int nesting, Pos at) {
    n->nesting = nesting;
    if (nesting > Limits::kMaxDepth) FailTooDeep(at);
  }

  NodePtr MakeBinary(Op op, Pos pos, NodePtr a, NodePtr b) {
    auto n = Make(NodeKind::kBinary, pos);
    n->op = op;
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    Nest(n.get());
    return n;
  }

  // Held around every recursive call of the parser (a group, a list, a
  // call's arguments, a conditional's branches, a unary operand): each
  // encloses its contents in one more level of nesting, so the recursion
  // is never deeper than the nesting the tree will have, and an input that
  // opens too many levels fails at the first one too many, before it
  // recurses any deeper.
  class Level {
   public:
    Level(Parser* p, Pos at) : p_(p) {
      if (++p_->depth_ > Limits::kMaxDepth) p_->FailTooDeep(at);
    }
    ~Level() { --p_->depth_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    bool ok() const { return !p_->failed_; }

   private:
    Parser* p_;
  };

  // The recursion for `( ... )` goes Expr -> Binary -> Unary -> Primary ->
  // Group -> Expr: few and small frames per level, since the parser's
  // stack, like every pass's, is what kMaxDepth has to fit in.

  NodePtr Expr() {
    const Pos pos = tok_.pos;
    NodePtr cond = Binary(kLoosest);
    if (!cond || tok_.kind != Tok::kQuestion) return cond;
    return Conditional(std::move(cond), pos);
  }

  // `cond ? a : b`, at the '?'.
  ABSL_ATTRIBUTE_NOINLINE NodePtr Conditional(NodePtr cond, Pos pos) {
    Level level(this, tok_.pos);
    if (!level.ok()) return nullptr;
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
    Nest(n.get());
    return n;
  }

  // Binding of the binary operators, loosest first.
  static constexpr int kLoosest = 1;
  static constexpr int kOr = 1, kAnd = 2, kRel = 3, kAdd = 4, kMul = 5;
  static constexpr int kPrimary = 6;  // a unary operand or a primary

  // The binding of the token as a binary operator (0 if it is none).
  int BinaryOp(Op* op) const {
    switch (tok_.kind) {
      case Tok::kOrOr: *op = Op::kOr; return kOr;
      case Tok::kAndAnd: *op = Op::kAnd; return kAnd;
      case Tok::kLt: *op = Op::kLt; return kRel;
      case Tok::kLe: *op = Op::kLe; return kRel;
      case Tok::kGt: *op = Op::kGt; return kRel;
      case Tok::kGe: *op = Op::kGe; return kRel;
      case Tok::kEqEq: *op = Op::kEq; return kRel;
      case Tok::kNe: *op = Op::kNe; return kRel;
      case Tok::kIdent:
        if (tok_.text != "in") return 0;
        *op = Op::kIn;
        return kRel;
      case Tok::kPlus: *op = Op::kAdd; return kAdd;
      case Tok::kMinus: *op = Op::kSub; return kAdd;
      case Tok::kStar: *op = Op::kMul; return kMul;
      case Tok::kSlash: *op = Op::kDiv; return kMul;
      default: return 0;
    }
  }

  // Operators binding at least `min` (precedence climbing): left-associative
  // chains are built by the loop, so `a + b + c + ...` does not recurse.
  // Comparisons do not chain: one applies only to an operand without a
  // comparison, && or || at its top, so the second `<` of `a < b < c` is
  // left for the caller to report.
  NodePtr Binary(int min) {
    NodePtr left = Unary();
    int left_binding = kPrimary;
    while (left) {
      Op op = Op::kNone;
      const int binding = BinaryOp(&op);
      if (binding == 0 || binding < min) break;
      if (binding == kRel && left_binding <= kRel) break;
      Pos pos = tok_.pos;
      Bump();
      NodePtr right = op == Op::kIn ? InList() : Binary(binding + 1);
      if (!right) return nullptr;
      left = MakeBinary(op, pos, std::move(left), std::move(right));
      left_binding = binding;
    }
    return left;
  }

  // The list on the right of `in`.
  ABSL_ATTRIBUTE_NOINLINE NodePtr InList() {
    if (tok_.kind != Tok::kLBracket) {
      Fail(tok_.pos, absl::StrCat("expected a list after 'in', found ",
                                  Describe(tok_)),
           "write `segment in [\"smb\", \"mid_market\"]`");
      return nullptr;
    }
    return List();
  }

  NodePtr Unary() {
    if (tok_.kind != Tok::kBang && tok_.kind != Tok::kMinus) return Primary();
    Op op = tok_.kind == Tok::kBang ? Op::kNot : Op::kNeg;
    Pos pos = tok_.pos;
    Level level(this, pos);
    if (!level.ok()) return nullptr;
    Bump();
    NodePtr operand = Unary();
    if (!operand) return nullptr;
    if (op == Op::kNeg && operand->kind == NodeKind::kNumber) {
      // Folded into the literal, but still a level, as written.
      operand->number = -operand->number;
      operand->pos = pos;
      SetNesting(operand.get(), operand->nesting + 1, pos);
      return operand;
    }
    auto n = Make(NodeKind::kUnary, pos);
    n->op = op;
    n->children.push_back(std::move(operand));
    Nest(n.get());
    return n;
  }

  NodePtr Primary() {
    if (failed_) return nullptr;
    switch (tok_.kind) {
      case Tok::kLParen: return Group();
      case Tok::kLBracket: return List();
      case Tok::kIdent: return NameOrCall();
      default: return Leaf();
    }
  }

  ABSL_ATTRIBUTE_NOINLINE NodePtr Group() {
    const Pos open = tok_.pos;
    Level level(this, open);
    if (!level.ok()) return nullptr;
    Bump();
    NodePtr e = Expr();
    if (!e || !Expect(Tok::kRParen, "')'")) return nullptr;
    SetNesting(e.get(), e->nesting + 1, open);
    return e;
  }

  ABSL_ATTRIBUTE_NOINLINE NodePtr List() {
    Level level(this, tok_.pos);
    if (!level.ok()) return nullptr;
    auto n = Make(NodeKind::kList, tok_.pos);
    Bump();
    if (tok_.kind != Tok::kRBracket && !Items(n.get())) return nullptr;
    if (!Expect(Tok::kRBracket, "']' to close the list")) return nullptr;
    Nest(n.get());
    return n;
  }

  // `expr (',' expr)*` into n's children; false on error.
  bool Items(Node* n) {
    while (true) {
      NodePtr item = Expr();
      if (!item) return false;
      n->children.push_back(std::move(item));
      if (tok_.kind != Tok::kComma) return true;
      Bump();
    }
  }

  // A name, or a call: the node is made as a name and becomes a call when
  // a '(' follows, so that the recursion into the arguments carries no
  // more than the node.
  ABSL_ATTRIBUTE_NOINLINE NodePtr NameOrCall() {
    NodePtr n = NameOrBool();
    if (!n || n->kind != NodeKind::kIdent || tok_.kind != Tok::kLParen) {
      return n;
    }
    Level level(this, tok_.pos);
    if (!level.ok()) return nullptr;
    Bump();
    n->kind = NodeKind::kCall;
    if (tok_.kind != Tok::kRParen && !Items(n.get())) return nullptr;
    if (!Expect(Tok::kRParen, "')' to close the call")) return nullptr;
    Nest(n.get());
    return n;
  }

  // `true`, `false`, or a name, dotted names whole.
  ABSL_ATTRIBUTE_NOINLINE NodePtr NameOrBool() {
    if (tok_.text == "true" || tok_.text == "false") {
      auto n = Make(NodeKind::kBool, tok_.pos);
      n->boolean = tok_.text == "true";
      Bump();
      return n;
    }
    auto n = Make(NodeKind::kIdent, tok_.pos);
    n->text = std::move(tok_.text);
    Bump();
    while (tok_.kind == Tok::kDot) {
      Bump();
      if (tok_.kind != Tok::kIdent) {
        Fail(tok_.pos, absl::StrCat("expected a name after '.', found ",
                                    Describe(tok_)));
        return nullptr;
      }
      absl::StrAppend(&n->text, ".", tok_.text);
      Bump();
    }
    return n;
  }

  ABSL_ATTRIBUTE_NOINLINE NodePtr Leaf() {
    const Pos pos = tok_.pos;
    switch (tok_.kind) {
      case Tok::kNumber: {
        auto n = Make(NodeKind::kNumber, pos);
        n->number = tok_.number;
        Bump();
        return n;
      }
      case Tok::kString: {
        auto n = Make(NodeKind::kString, pos);
        n->text = std::move(tok_.text);
        Bump();
        return n;
      }
      case Tok::kEnd:
        Fail(pos, "expression ends too early",
             pos.line == 1 && pos.column == 1 ? "write an expression" : "");
        return nullptr;
      case Tok::kError:
        Fail(pos, tok_.text);
        return nullptr;
      default:
        Fail(pos, absl::StrCat("unexpected ", Describe(tok_)));
        return nullptr;
    }
  }

  Lexer lex_;
  Token tok_;
  bool failed_ = false;
  ParseError error_;
  int depth_ = 0;   // Levels currently open (see Level).
  int nodes_ = 0;   // Nodes made so far.
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

ParseResult Parse(std::string_view text) {
  if (text.size() > ExpressionLimits::kMaxLength) {
    // Located at the first byte past the limit.
    Pos pos;
    for (size_t i = 0; i < ExpressionLimits::kMaxLength; ++i) {
      if (text[i] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else {
        ++pos.column;
      }
    }
    ParseResult r;
    r.error = {pos,
               absl::StrCat("expression is too long: ", text.size(),
                            " bytes, more than ",
                            ExpressionLimits::kMaxLength),
               "split it into derived values"};
    return r;
  }
  return Parser(text).Run();
}

namespace {
void CollectNew(const Node& node, std::unordered_set<std::string_view>* seen,
                std::vector<std::string>* out) {
  if (node.kind == NodeKind::kIdent) {
    if (seen->insert(node.text).second) out->push_back(node.text);
    return;
  }
  for (const auto& c : node.children) CollectNew(*c, seen, out);
}
}  // namespace

void CollectIdentifiers(const Node& node, std::vector<std::string>* out) {
  // A set, not a scan of `out`: a tree may read thousands of names.
  std::unordered_set<std::string_view> seen;
  for (const std::string& s : *out) seen.insert(s);
  std::vector<std::string> added;
  CollectNew(node, &seen, &added);
  for (std::string& s : added) out->push_back(std::move(s));
}

std::string ToString(const Node& node) {
  std::string out;
  RenderTo(node, &out);
  return out;
}

}  // namespace healthscore::engine::expr
