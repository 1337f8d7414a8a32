# Debian package of indafoto-syncd, built by CPack from the same build tree:
#
#   cmake -S . -B build && cmake --build build && (cd build && cpack -G DEB)
#
# gives build/indafoto-syncd_<version>_<arch>.deb. Included at the end of the
# top-level CMakeLists.txt, after the indafoto-syncd target and its
# install(TARGETS) rule.
#
# The units and the example configuration are installed to absolute paths
# (/lib/systemd/system, /etc/indafoto-syncd) because that is where Debian
# wants them whatever the prefix; CPack stages them under DESTDIR. A plain
# `cmake --install` without DESTDIR therefore writes there too (as root).

# Debian policy: man pages compressed, reproducibly (-n: no name, no time).
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(INDAFOTO_MAN_PAGE ${CMAKE_BINARY_DIR}/indafoto-syncd.1.gz)
add_custom_command(
  OUTPUT ${INDAFOTO_MAN_PAGE}
  COMMAND ${GZIP_EXECUTABLE} -9nc ${CMAKE_SOURCE_DIR}/packaging/indafoto-syncd.1 > ${INDAFOTO_MAN_PAGE}
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/indafoto-syncd.1
  COMMENT "Compressing the man page")
add_custom_target(indafoto-man ALL DEPENDS ${INDAFOTO_MAN_PAGE})

install(FILES ${CMAKE_SOURCE_DIR}/systemd/indafoto-syncd.service
              ${CMAKE_SOURCE_DIR}/systemd/indafoto-syncd@.service
        DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/config.example.json
        DESTINATION /etc/indafoto-syncd)
install(FILES ${INDAFOTO_MAN_PAGE} DESTINATION share/man/man1)
# Operator docs (operations, configuration, manifest format, ...).
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/
        DESTINATION share/doc/indafoto-syncd
        FILES_MATCHING PATTERN "*.md")
install(FILES ${CMAKE_SOURCE_DIR}/packaging/compose.yaml
              ${CMAKE_SOURCE_DIR}/packaging/config.compose.json
              ${CMAKE_SOURCE_DIR}/packaging/Dockerfile
        DESTINATION share/doc/indafoto-syncd/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME indafoto-syncd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "merges Indafoto archives that peers exchange with Syncthing")
set(CPACK_PACKAGE_DESCRIPTION
  "indafoto-syncd runs beside Syncthing and imports every file it delivers\n\
from another Indafoto archive into the local crawler archive (indafoto.db\n\
and indafoto_archive/): verified by SHA-256, deduplicated, placed by the\n\
crawler's layout rules with its metadata and provenance. It also publishes\n\
a signed manifest of the local archive for its peers.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # indafoto-syncd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "indafoto-syncd maintainers <maintainers@users.noreply.b-seed-865fcb51.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps; these are what the
# maintainer scripts use. Syncthing may run on another host or in a
# container, hence only recommended; sqlite3 is for safe backups.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "syncthing")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
  ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)

# Builds the package, checks its contents, scripts and units, runs the
# packaged binary (tests/packaging_test.sh; `--install` also installs it).
add_test(NAME packaging COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(packaging PROPERTIES TIMEOUT 600)

# The operator's path of docs/operations.md under a real systemd: a Debian
# root booted with systemd-nspawn, the package installed with apt-get, the
# service importing an archive published with Syncthing
# (tests/systemd_service_test.sh; needs root, exits 77 = skipped otherwise).
add_test(NAME systemd_service COMMAND bash ${CMAKE_SOURCE_DIR}/tests/systemd_service_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(systemd_service PROPERTIES TIMEOUT 1500 SKIP_RETURN_CODE 77)

# Docker and Compose for real (tests/docker_compose_test.sh): Docker and
# Compose 1.29 from Debian (installed when missing), Compose v2 from Debian 13,
# dockerd started when none runs, base images made with debootstrap, the
# image of packaging/Dockerfile and packaging/compose.yaml beside a Syncthing
# image built from Debian's package. Needs root; exits 77 (skipped) only
# where Docker cannot run at all.
add_test(NAME docker_compose COMMAND bash ${CMAKE_SOURCE_DIR}/tests/docker_compose_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(docker_compose PROPERTIES TIMEOUT 2400 SKIP_RETURN_CODE 77)

# scripts/debian-mirror.sh: every script that fetches Debian packages or roots
# takes the mirror from the machine's apt sources (tests/debian_mirror_test.sh).
add_test(NAME debian_mirror COMMAND bash ${CMAKE_SOURCE_DIR}/tests/debian_mirror_test.sh)
