#include <gtest/gtest.h>

#include "vitrine/common/suggest.h"

using vitrine::closest_name;

TEST(ClosestName, SuggestsTheNearestWithinAThirdOfTheLength) {
  const std::vector<std::string> protocols = {"SMBv1", "SMBv23", "NetBIOS", "DNS", "HTTP", "MsSQL-TDS"};
  EXPECT_EQ(closest_name("smbv2", protocols), "SMBv1");       // case ignored, one edit
  EXPECT_EQ(closest_name("Netbois", protocols), "NetBIOS");   // two edits in seven letters
  EXPECT_EQ(closest_name("MSSQL_TDS", protocols), "MsSQL-TDS");
  EXPECT_EQ(closest_name("DSN", protocols), std::nullopt) << "two edits in three letters is a guess";
  EXPECT_EQ(closest_name("Gopher", protocols), std::nullopt);
  EXPECT_EQ(closest_name("", protocols), std::nullopt);
  EXPECT_EQ(closest_name("HTTP", {}), std::nullopt);
}
