#pragma once
// Zero-copy relay of a known number of bytes between two TCP sockets (Linux splice(2) through a
// pipe): used for the part of a large body that capture no longer needs to see.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <utility>

namespace hark::net {

/** Moves exactly `count` bytes from `from` to `to` without copying them through user space.
 *  Returns the bytes delivered to `to` and the error that stopped it early (asio::error::eof
 *  when `from` closed first). Both sockets must be plain TCP with nothing buffered above them. */
boost::asio::awaitable<std::pair<boost::system::error_code, std::uint64_t>> splice_bytes(
    boost::asio::ip::tcp::socket& from, boost::asio::ip::tcp::socket& to, std::uint64_t count);

}  // namespace hark::net
