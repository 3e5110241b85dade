// websocketpp_echo: a websocketpp WebSocket echo server, a peer for bench/ws_echo.sh.
//
//   websocketpp_echo --port P [--host 127.0.0.1]
//
// Any path is accepted. websocketpp 0.8.2 (Debian 12 libwebsocketpp-dev) with its stock Asio
// transport config (websocketpp/config/asio_no_tls.hpp, Boost.Asio underneath), run by one thread.
// The message handler is the one of websocketpp's echo_server example: send the payload back with
// the message's opcode (text stays text, binary stays binary). max message size 16 MiB, logging
// off, TCP_NODELAY on. Runs until SIGINT/SIGTERM. Built as C++17 (0.8.2 does not compile as C++20).
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using Server = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--port" && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (a == "--host" && i + 1 < argc) host = argv[++i];
        else port = -1;
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s --port P [--host 127.0.0.1]\n", argv[0]);
        return 1;
    }
    try {
        Server server;
        server.clear_access_channels(websocketpp::log::alevel::all);
        server.clear_error_channels(websocketpp::log::elevel::all);
        server.init_asio();
        server.set_reuse_addr(true);
        server.set_listen_backlog(4096);
        server.set_max_message_size(16u << 20);
        server.set_socket_init_handler([](websocketpp::connection_hdl, boost::asio::ip::tcp::socket& s) {
            boost::system::error_code ec;
            s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
        });
        server.set_message_handler([&server](websocketpp::connection_hdl hdl, Server::message_ptr msg) {
            websocketpp::lib::error_code ec;
            server.send(hdl, msg->get_payload(), msg->get_opcode(), ec);
        });
        server.listen(host, std::to_string(port));
        server.start_accept();
        boost::asio::signal_set signals(server.get_io_service(), SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) {
            websocketpp::lib::error_code ec;
            server.stop_listening(ec);
            server.stop();
        });
        server.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "websocketpp_echo: %s\n", e.what());
        return 2;
    }
    return 0;
}
