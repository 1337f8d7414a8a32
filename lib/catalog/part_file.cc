#include "lib/catalog/part_file.h"

#include <utility>  // before Boost: see CMakeLists.txt (Boost 1.74 and std::exchange)

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <cstring>

namespace indafoto {

namespace zlib = boost::beast::zlib;

namespace {

constexpr std::string_view kPlainSuffix = ".jsonl";
constexpr std::string_view kDeflateSuffix = ".jsonl.deflate";
// zlib's defaults: level 6, a 32 KiB window (15 bits), memory level 8. A
// part of 1000 entries (about 1 MB) becomes about 180 KB in 20 ms.
constexpr int kLevel = 6;
constexpr int kWindowBits = 15;
constexpr int kMemLevel = 8;
constexpr size_t kInflateChunk = 64 * 1024;

}  // namespace

std::string_view PartSuffix(int64_t version) { return version >= 2 ? kDeflateSuffix : kPlainSuffix; }

bool HasPartSuffix(std::string_view name, int64_t version) {
  const std::string_view suffix = PartSuffix(version);
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

bool HasAnyPartSuffix(std::string_view name) { return HasPartSuffix(name, 1) || HasPartSuffix(name, 2); }

std::string EncodePart(int64_t version, std::string_view lines) {
  if (version < 2) return std::string(lines);
  zlib::deflate_stream deflater;
  deflater.reset(kLevel, kWindowBits, kMemLevel, zlib::Strategy::normal);
  // upper_bound() is enough for one call with Flush::finish to complete.
  std::string out(deflater.upper_bound(lines.size()), '\0');
  zlib::z_params zs;
  zs.next_in = lines.data();
  zs.avail_in = lines.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  deflater.write(zs, zlib::Flush::finish, ec);
  // In memory with a large enough buffer nothing can fail; end_of_stream
  // is how the stream reports it has finished.
  out.resize(zs.total_out);
  return out;
}

struct PartLineReader::Inflater {
  zlib::inflate_stream stream;
  bool ended = false;
  std::string out = std::string(kInflateChunk, '\0');
};

PartLineReader::PartLineReader(int64_t version, size_t max_line) : max_line_(max_line) {
  if (version >= 2) {
    inflater_ = std::make_unique<Inflater>();
    inflater_->stream.reset(kWindowBits);
  }
}

PartLineReader::~PartLineReader() = default;

Status PartLineReader::Feed(const char* data, size_t n, const LineSink& sink) {
  if (!inflater_) return Split(data, n, sink);
  Inflater& in = *inflater_;
  zlib::z_params zs;
  zs.next_in = data;
  zs.avail_in = n;
  // Until the input is used up and the last call left room in the output
  // buffer (a full buffer may mean more output is pending).
  bool output_full = false;
  while (zs.avail_in > 0 || output_full) {
    if (in.ended) {
      if (zs.avail_in > 0) return Status::Corrupt("holds data after the end of its compressed stream");
      break;
    }
    zs.next_out = in.out.data();
    zs.avail_out = in.out.size();
    const size_t before_in = zs.avail_in;
    boost::system::error_code ec;
    in.stream.write(zs, zlib::Flush::none, ec);
    if (ec == zlib::error::end_of_stream) {
      in.ended = true;
      // Whole bytes the inflater took in but did not use (see Finish)
      // follow the stream's end.
      if ((zs.data_type & 63) >= 8) return Status::Corrupt("holds data after the end of its compressed stream");
    } else if (ec && ec != zlib::error::need_buffers) {
      return Status::Corrupt("compressed data is corrupt (" + ec.message() + ")");
    }
    const size_t produced = in.out.size() - zs.avail_out;
    output_full = zs.avail_out == 0;
    if (Status s = Split(in.out.data(), produced, sink); !s.ok()) return s;
    if (produced == 0 && zs.avail_in == before_in && !in.ended) {
      if (zs.avail_in == 0) break;  // nothing pending after all
      return Status::Corrupt("compressed data is corrupt (the inflater makes no progress)");
    }
  }
  return Status::Ok();
}

Status PartLineReader::Split(const char* p, size_t n, const LineSink& sink) {
  const char* end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    size_t take = static_cast<size_t>((nl ? nl : end) - p);
    if (line_.size() + take > max_line_)
      return Status::Corrupt("line " + std::to_string(lines_ + 1) + " is longer than " + std::to_string(max_line_) +
                             " bytes");
    line_.append(p, take);
    p += take;
    if (!nl) break;
    ++p;  // the newline
    ++lines_;
    if (Status s = sink(line_); !s.ok()) return s;
    line_.clear();
  }
  return Status::Ok();
}

Status PartLineReader::Finish() {
  if (inflater_ && !inflater_->ended) {
    // Boost.Beast's inflater (1.74) decodes a literal/length code only once
    // it can peek a whole table index (its slow path, used near the end of
    // the input), which can be more bits than the last block's end-of-block
    // code and the padding leave: it then waits for input that never comes
    // (about 1 part in 200; zlib and Python read the same stream to its
    // end). Zero bytes let it peek; a complete stream then ends without
    // producing a byte and without using a bit of them: after the end the
    // inflater drops the rest of its current byte, so the whole padding
    // bytes it took in are all still unused (zs.data_type & 63 counts the
    // unused bits; the flags above it say which block it was in). A stream
    // cut before its end needs some of the padding, or produces output.
    static constexpr char kPadding[4] = {0, 0, 0, 0};
    Inflater& in = *inflater_;
    zlib::z_params zs;
    zs.next_in = kPadding;
    zs.avail_in = sizeof kPadding;
    zs.next_out = in.out.data();
    zs.avail_out = in.out.size();
    boost::system::error_code ec;
    in.stream.write(zs, zlib::Flush::none, ec);
    const size_t padding_taken = sizeof kPadding - zs.avail_in;
    const size_t padding_unused = static_cast<size_t>(zs.data_type & 63) / 8;
    if (ec != zlib::error::end_of_stream || zs.avail_out != in.out.size() || padding_taken != padding_unused)
      return Status::Corrupt("compressed data ends early (truncated stream)");
    in.ended = true;
  }
  if (!line_.empty())
    return Status::Corrupt("ends inside line " + std::to_string(lines_ + 1) + " (no final newline)");
  return Status::Ok();
}

}  // namespace indafoto
