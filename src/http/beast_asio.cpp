// The one translation unit that compiles Asio and Beast (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set on circuitlab_http): every other file only sees
// declarations, which keeps builds on 2 cores quick.

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
