# `cpack -G DEB` in the build tree (or dist/package.sh): the install components as Debian
# packages, installed under /usr (the configuration in /etc). Needs dpkg-dev and file
# (dpkg-shlibdeps derives the runtime package's dependencies from the binary).
set(CPACK_PACKAGE_NAME gemgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR gemgate)
set(CPACK_PACKAGE_CONTACT "gemgate maintainers <maintainers@gemgate.invalid>")
# Each description's first line is its summary (CPACK_PACKAGE_DESCRIPTION_SUMMARY left unset, or
# CPackDeb would put it before both).
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
# Install into a staging DESTDIR with the real prefix, so install_service.cmake sees /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # gemgate_VERSION_ARCH.deb, gemgate-dev_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME gemgate)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "AI gateway in front of Google's Gemini API
A pool of Gemini API keys with failover, cooldowns and circuit breakers; native Gemini and
OpenAI-compatible endpoints; a JSON admin API and web dashboard; SQLite storage. Ships the
systemd unit gemgate.service (not enabled on install).")
# Shared libraries come from dpkg-shlibdeps; adduser for postinst, CA certificates for HTTPS.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser, ca-certificates")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/deb/postinst ${CMAKE_CURRENT_SOURCE_DIR}/deb/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/deb/postrm ${CMAKE_CURRENT_SOURCE_DIR}/deb/conffiles)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME gemgate-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION "gemgate's translator and filter SDK (static libraries, headers)
gemgate::openai_translate (OpenAI <-> Gemini, RapidJSON only) and gemgate::filter_sdk (the
filter contract, registry and YAML loader) for find_package(gemgate) or pkg-config.")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libuv1-dev, libyaml-cpp-dev, rapidjson-dev")

include(CPack)
