/* test_common_h5.c -- the shared HDF5 helpers (sim/common/h5.h): scalar
 * attributes round-trip with little-endian file types, strings are
 * null-padded and cut to the reader's buffer, and a missing attribute or
 * one of another class is GPP_EPARSE naming the attribute. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <string.h>

#include "sim/common/h5.h"

/* An HDF5 file that lives in memory only. */
static hid_t mem_file(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  hid_t f = H5Fcreate("mem.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  cr_assert_geq(f, 0);
  return f;
}

static bool file_type_is(hid_t f, const char *name, hid_t want) {
  hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Aget_type(a);
  htri_t eq = H5Tequal(t, want);
  H5Tclose(t);
  H5Aclose(a);
  return eq > 0;
}

Test(h5, numbers_round_trip_little_endian) {
  hid_t f = mem_file();
  cr_assert_eq(gpp_h5_write_attr_int(f, "i", -7), 0);
  cr_assert_eq(gpp_h5_write_attr_u64(f, "u", 1ULL << 40), 0);
  cr_assert_eq(gpp_h5_write_attr_double(f, "d", 2.5e-3), 0);
  cr_assert(file_type_is(f, "i", H5T_STD_I32LE));
  cr_assert(file_type_is(f, "u", H5T_STD_U64LE));
  cr_assert(file_type_is(f, "d", H5T_IEEE_F64LE));
  gpp_errctx err = {0};
  int i = 0;
  unsigned long long u = 0, small = 0;
  double d = 0;
  cr_assert_eq(gpp_h5_attr_int(f, "mem.h5", "i", &i, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_h5_attr_u64(f, "mem.h5", "u", &u, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_h5_attr_double(f, "mem.h5", "d", &d, &err), 0, "%s",
               err.msg);
  /* an int attribute read as u64 is converted */
  gpp_h5_write_attr_int(f, "n", 12);
  cr_assert_eq(gpp_h5_attr_u64(f, "mem.h5", "n", &small, &err), 0);
  cr_assert_eq(i, -7);
  cr_assert_eq(u, 1ULL << 40);
  cr_assert_eq(d, 2.5e-3);
  cr_assert_eq(small, 12);
  H5Fclose(f);
}

Test(h5, strings_are_null_padded_and_cut_to_the_buffer) {
  hid_t t = gpp_h5_str_type(0);
  cr_assert_eq(H5Tget_size(t), 1);
  cr_assert_eq(H5Tget_strpad(t), H5T_STR_NULLPAD);
  H5Tclose(t);
  hid_t f = mem_file();
  cr_assert_eq(gpp_h5_write_attr_str(f, "s", "pipeline"), 0);
  cr_assert_eq(gpp_h5_write_attr_str(f, "e", ""), 0);
  gpp_errctx err = {0};
  char full[32], cut[5], empty[4] = "x";
  cr_assert_eq(gpp_h5_attr_str(f, "mem.h5", "s", full, sizeof full, &err), 0);
  cr_assert_eq(gpp_h5_attr_str(f, "mem.h5", "s", cut, sizeof cut, &err), 0);
  cr_assert_eq(gpp_h5_attr_str(f, "mem.h5", "e", empty, sizeof empty, &err),
               0);
  cr_assert_str_eq(full, "pipeline");
  cr_assert_str_eq(cut, "pipe");
  cr_assert_str_eq(empty, "");
  H5Fclose(f);
}

Test(h5, missing_or_wrong_class_is_a_parse_error) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = mem_file();
  gpp_h5_write_attr_double(f, "d", 1.0);
  gpp_errctx err = {0};
  int i;
  char s[8];
  cr_assert_eq(gpp_h5_attr_int(f, "x.h5: /summary", "n", &i, &err),
               GPP_EPARSE);
  cr_assert_str_eq(err.msg, "x.h5: /summary: missing attribute 'n'");
  gpp_error_clear(&err);
  cr_assert_eq(gpp_h5_attr_int(f, "x.h5", "d", &i, &err), GPP_EPARSE);
  cr_assert(strstr(err.msg, "attribute 'd' is a float with 1 values, "
                   "expected an integer scalar") != NULL, "%s", err.msg);
  gpp_error_clear(&err);
  cr_assert_eq(gpp_h5_attr_str(f, "x.h5", "d", s, sizeof s, &err),
               GPP_EPARSE);
  cr_assert(strstr(err.msg, "expected a string scalar") != NULL, "%s",
            err.msg);
  H5Fclose(f);
}
