#pragma once
// Herald: a C++20 framework and server for the real-time web. Include this one header.
#include <herald/error.hpp>
#include <herald/http/headers.hpp>
#include <herald/http/http_error.hpp>
#include <herald/http/method.hpp>
#include <herald/http/request.hpp>
#include <herald/http/response.hpp>
#include <herald/http/router.hpp>
#include <herald/http/static_files.hpp>
#include <herald/log.hpp>
#include <herald/server.hpp>
#include <herald/sse/event.hpp>
#include <herald/sse/event_source.hpp>
#include <herald/sse/parser.hpp>
#include <herald/task.hpp>
#include <herald/websocket/close_code.hpp>
#include <herald/websocket/websocket.hpp>
