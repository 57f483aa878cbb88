# PostgreSQL store tests. They need the throwaway cluster that
# scripts/with-postgres.sh starts; without MAGICLINK_TEST_POSTGRES_URL they fail.
add_library(magiclink_postgres_test_support STATIC postgres_test_support.cc pgbouncer.cc
  postgres_cluster.cc)
target_link_libraries(magiclink_postgres_test_support PUBLIC
  magiclink_store_postgres magiclink_testing GTest::gtest absl::strings)

magiclink_test(postgres_token_store_test
  SOURCES postgres_token_store_test.cc
  LIBS magiclink_store_postgres magiclink_postgres_test_support absl::synchronization
       "$<LINK_LIBRARY:WHOLE_ARCHIVE,magiclink_store_contract>")

# The store behind a real pgbouncer in transaction mode (started by the test).
magiclink_test(postgres_pgbouncer_test
  SOURCES postgres_pgbouncer_test.cc
  LIBS magiclink_store_postgres magiclink_postgres_test_support
       "$<LINK_LIBRARY:WHOLE_ARCHIVE,magiclink_store_contract>")

# Stops and starts the whole cluster: never alongside another test.
add_executable(postgres_outage_test postgres_outage_test.cc)
target_link_libraries(postgres_outage_test PRIVATE
  magiclink_testing magiclink_store_postgres magiclink_postgres_test_support GTest::gmock_main)
gtest_discover_tests(postgres_outage_test PROPERTIES RUN_SERIAL TRUE DISCOVERY_TIMEOUT 60)

# What the stores report to a StoreObserver (metrics), SQLite and PostgreSQL.
magiclink_test(observed_token_store_test SOURCES observed_token_store_test.cc
  LIBS magiclink_store_factory magiclink_postgres_test_support)
