# LLAMBA_SANITIZE=address;undefined builds everything with ASan + UBSan (scripts/test.sh --sanitize);
# LLAMBA_SANITIZE=thread with ThreadSanitizer, where tests/CMakeLists.txt makes only the tests labelled `tsan`
# (scripts/test.sh --tsan).
if(LLAMBA_SANITIZE)
  string(REPLACE ";" "," _san "${LLAMBA_SANITIZE}")
  target_compile_options(llamba_flags INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(llamba_flags INTERFACE -fsanitize=${_san})
  target_compile_definitions(llamba_flags INTERFACE LLAMBA_SANITIZED=1)
endif()
