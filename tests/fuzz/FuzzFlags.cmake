# Included by the top-level CMakeLists.txt when FERRY_FUZZ is ON, before any target exists, so
# that the whole tree gets libFuzzer coverage instrumentation and ASan + UBSan; only the fuzz
# targets link the libFuzzer main (-fsanitize=fuzzer, in tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FERRY_FUZZ=ON needs clang: configure with CC=clang CXX=clang++")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
# clang 14 cannot use libstdc++ 12's <expected> (see the header): a stand-in comes first.
include_directories(BEFORE SYSTEM ${CMAKE_CURRENT_LIST_DIR}/compat)
