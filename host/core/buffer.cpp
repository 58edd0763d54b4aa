#include <twofold/core/buffer.hpp>
#include <twofold/core/error.hpp>

#include <string>

namespace twofold {

namespace detail {
void check_same_size(std::size_t from, std::size_t to) {
  TWOFOLD_EXPECTS(from == to, "buffer copy: the source has " + std::to_string(from) + " elements, the destination " +
                                  std::to_string(to));
}
}  // namespace detail

chain_buffer to_backend(const context& ctx, std::span<const cfloat> host, std::size_t chains, image_shape shape) {
  TWOFOLD_EXPECTS(host.size() == chains * shape.pixels(),
                  "chain upload: " + std::to_string(host.size()) + " values given, " + std::to_string(chains) +
                      " chains of " + to_string(shape) + " need " + std::to_string(chains * shape.pixels()));
  chain_buffer b(ctx, chains, shape);
  detail::copy_bytes(ctx, b.storage.data(), host.data(), host.size_bytes());
  return b;
}

std::vector<cfloat> to_host(const context& ctx, const_chain_view x) { return to_host(ctx, x.data, x.size()); }

}  // namespace twofold
