# Included by the top-level CMakeLists.txt when FERRY_FUZZ is ON, before any target exists, so
# that the whole tree gets libFuzzer coverage instrumentation and ASan + UBSan; only the fuzz
# targets link the libFuzzer main (-fsanitize=fuzzer, in tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FERRY_FUZZ=ON needs clang: configure with CC=clang-19 CXX=clang++-19")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
