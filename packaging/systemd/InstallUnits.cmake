# Run by `cmake --install` (install(SCRIPT)): writes the unit templates with the binary and doc
# paths of the prefix chosen at install time (--prefix, or CMAKE_INSTALL_PREFIX), then installs
# them under PREFIX/lib/systemd/system (DESTDIR honoured by file(INSTALL)).
foreach(role client server)
  file(READ "${FERRY_UNIT_SOURCE}/ferry-${role}@.service" unit)
  string(REPLACE "@FERRY_BIN@" "${CMAKE_INSTALL_PREFIX}/bin/ferry" unit "${unit}")
  string(REPLACE "@FERRY_DOC_DIR@" "${CMAKE_INSTALL_PREFIX}/share/doc/ferry" unit "${unit}")
  file(WRITE "${FERRY_UNIT_BUILD}/ferry-${role}@.service" "${unit}")
  file(INSTALL "${FERRY_UNIT_BUILD}/ferry-${role}@.service"
       DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" FILE_PERMISSIONS OWNER_READ
       OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
