#include "output.h"

#include <algorithm>
#include <ostream>
#include <string_view>

#include "json_input.h"
#include "s3db/errors.h"
#include "s3db/stores.h"

namespace s3db_cli {

// The library's table (s3db/error_mapping.h), which `s3db serve` answers with too.
ExitCode ExitCodeFor(s3db::ErrorCode code) { return static_cast<ExitCode>(s3db::ExitCodeOf(code)); }

ExitCode ExitCodeFor(const std::exception& error) {
  if (const auto* s3db_error = dynamic_cast<const s3db::Error*>(&error)) {
    return ExitCodeFor(s3db_error->code());
  }
  if (const auto* cli_error = dynamic_cast<const CliError*>(&error)) return cli_error->code();
  return ExitCode::kStorage;
}

ExitCode Worst(ExitCode a, ExitCode b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

namespace {

std::string DescribeFieldError(const s3db::FieldError& field) {
  std::string text = field.path;
  if (!field.rule.empty()) text += " (" + field.rule + ")";
  if (!field.expected.empty()) {
    text += ": expected " + field.expected;
    if (!field.actual.empty()) text += ", got " + field.actual;
  } else if (!field.message.empty()) {
    text += ": " + field.message;
  }
  return text;
}

// Built from the fields rather than appended to the message, which may list them already.
std::string DescribeInvalidRecord(const std::string& resource, const std::string& id,
                                  const std::vector<s3db::FieldError>& fields) {
  std::string text;
  if (!resource.empty()) {
    text = resource;
    if (!id.empty()) text += "/" + id;
    text += ": ";
  }
  text += "invalid record";
  const char* separator = ": ";
  for (const s3db::FieldError& field : fields) {
    text += separator + DescribeFieldError(field);
    separator = "; ";
  }
  return text;
}

}  // namespace

std::string DescribeError(const std::exception& error) {
  const auto* invalid = dynamic_cast<const s3db::ValidationError*>(&error);
  if (invalid != nullptr && !invalid->fields().empty()) {
    return DescribeInvalidRecord(invalid->resource(), invalid->id(), invalid->fields());
  }
  if (dynamic_cast<const s3db::Json::exception*>(&error) != nullptr) {
    return WithoutJsonExceptionTag(error.what());
  }
  return error.what();
}

std::string DescribeItemError(const std::string& resource, const s3db::BulkItemError& error) {
  if (error.code == s3db::ErrorCode::kValidation && !error.fields.empty()) {
    return DescribeInvalidRecord(resource, error.id, error.fields);
  }
  return error.message;
}

std::string GroupThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  for (size_t at = digits.size(); at > 3; at -= 3) digits.insert(at - 3, ",");
  return digits;
}

void AddConnectionSecrets(SecretMasker& masker, const std::string& text) {
  if (text.find("://") == std::string::npos) return;
  masker.AddUri(text);
  if (size_t at = text.rfind('@'); text.rfind("redis://", 0) == 0 && at != std::string::npos) {
    const std::string credentials = text.substr(8, at - 8);
    const size_t colon = credentials.find(':');
    masker.AddSecret(credentials.substr(colon == std::string::npos ? 0 : colon + 1));
  }
}

namespace {

// The length of the valid UTF-8 sequence at text[i], or 0 when the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceAt(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::string EscapeForTerminal(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t sequence = c < 0x80 ? (c < 0x20 || c == 0x7F ? 0 : 1) : Utf8SequenceAt(text, i);
    if (sequence == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
    } else {
      out.append(text.substr(i, sequence));
      i += sequence;
    }
  }
  return out;
}

std::string Abbreviate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t keep = max_bytes;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  return std::string(text.substr(0, keep)) + "...";
}

Diagnostics::Diagnostics(std::ostream& err, SecretMasker masker) : err_(err), masker_(std::move(masker)) {}

void Diagnostics::Line(const std::string& message) {
  std::string line = masker_.Mask(context_ + message);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  err_ << "s3db: " << EscapeForTerminal(line) << '\n' << std::flush;
}

void Diagnostics::Raw(const std::string& text) { err_ << masker_.Mask(text) << std::flush; }

ProgressLine::~ProgressLine() {
  if (width_ > 0) diagnostics_.Raw("\n");
}

void ProgressLine::Update(const std::function<std::string()>& text) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (drawn_at_ && now - *drawn_at_ < std::chrono::milliseconds(250)) return;
  drawn_at_ = now;
  Draw(text());
}

void ProgressLine::Line(const std::string& message) {
  std::lock_guard lock(mu_);
  Wipe();
  diagnostics_.Line(message);
}

void ProgressLine::Finish(const std::string& text) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  Draw(text);
  diagnostics_.Raw("\n");
  width_ = 0;
}

void ProgressLine::Draw(const std::string& text) {
  // Padded to the width of what it replaces, so no tail of a longer line stays behind.
  std::string line = "\r" + text;
  if (text.size() < width_) line += std::string(width_ - text.size(), ' ');
  diagnostics_.Raw(line);
  width_ = text.size();
}

void ProgressLine::Wipe() {
  if (width_ == 0) return;
  diagnostics_.Raw("\r" + std::string(width_, ' ') + "\r");
  width_ = 0;
  drawn_at_.reset();  // redraw at the next update
}

std::string DumpJson(const s3db::Json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, s3db::Json::error_handler_t::replace);
}

void Output::Record(const s3db::Record& record) { Json(record.ToJson(flags_.meta)); }

void Output::Json(const s3db::Json& value) { out_ << DumpJson(value) << '\n'; }

void Output::Line(const std::string& text) { out_ << text << '\n'; }

void Output::Names(const std::vector<std::string>& names) {
  if (flags_.json) {
    Json(s3db::Json(names));
    return;
  }
  for (const std::string& name : names) Line(name);
}

}  // namespace s3db_cli
