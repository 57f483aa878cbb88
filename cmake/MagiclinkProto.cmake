# magiclink_proto_library(TARGET OUT_DIR ENTRY...)
# Generates C++ (and gRPC C++ for services) into OUT_DIR and builds a static
# library TARGET from it. Each ENTRY is "<import root>|<proto path relative to
# the root>|<1 if it has services, else 0>". Written by hand because
# protobuf_generate() mis-computes output paths for protos outside the tree.
function(magiclink_proto_library TARGET OUT_DIR)
  file(MAKE_DIRECTORY "${OUT_DIR}")
  set(_sources)
  set(_headers)
  set(_includes)
  foreach(_entry IN LISTS ARGN)
    string(REPLACE "|" ";" _parts "${_entry}")
    list(GET _parts 0 _root)
    list(GET _parts 1 _rel)
    list(GET _parts 2 _services)
    list(APPEND _includes "-I${_root}")
  endforeach()
  list(REMOVE_DUPLICATES _includes)
  foreach(_entry IN LISTS ARGN)
    string(REPLACE "|" ";" _parts "${_entry}")
    list(GET _parts 0 _root)
    list(GET _parts 1 _rel)
    list(GET _parts 2 _services)
    string(REGEX REPLACE "\\.proto$" "" _stem "${_rel}")
    set(_outs "${OUT_DIR}/${_stem}.pb.cc" "${OUT_DIR}/${_stem}.pb.h")
    set(_args --cpp_out=${OUT_DIR})
    if(_services)
      list(APPEND _outs "${OUT_DIR}/${_stem}.grpc.pb.cc" "${OUT_DIR}/${_stem}.grpc.pb.h")
      list(APPEND _args --grpc_out=${OUT_DIR}
                        --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${_outs}
      COMMAND protobuf::protoc ${_includes} ${_args} "${_root}/${_rel}"
      DEPENDS "${_root}/${_rel}" protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "Generating C++ from ${_rel}"
      VERBATIM)
    foreach(_out IN LISTS _outs)
      if(_out MATCHES "\\.cc$")
        list(APPEND _sources "${_out}")
      else()
        list(APPEND _headers "${_out}")
      endif()
    endforeach()
  endforeach()
  add_library(${TARGET} ${_sources} ${_headers})
  target_include_directories(${TARGET} PUBLIC $<BUILD_INTERFACE:${OUT_DIR}>)
  target_link_libraries(${TARGET} PUBLIC gRPC::grpc++ protobuf::libprotobuf)
  set_target_properties(${TARGET} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
