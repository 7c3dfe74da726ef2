# SPDX-License-Identifier: Apache-2.0
# Model manager suites (issue 5): downloads against an in-process loopback hub, the model
# library, and the Models page driving a download into a chat.
find_package(Qt6 REQUIRED COMPONENTS Network Widgets)
add_library(mmfree_hub_test_server STATIC hub_test_server.cpp hub_test_server.h)
target_link_libraries(mmfree_hub_test_server PUBLIC Qt6::Network)

mmfree_add_test(test_app_downloads test_downloads.cpp LIBS mmfree_app_core mmfree_hub_test_server LABELS app)
mmfree_add_test(test_app_model_catalog test_model_catalog.cpp LIBS mmfree_app_core mmfree_hub_test_server LABELS app)
foreach(t test_app_downloads test_app_model_catalog)
  set_tests_properties(${t} PROPERTIES TIMEOUT 180)
endforeach()
mmfree_add_test(test_app_models_page test_models_page.cpp LIBS mmfree_app_testkit mmfree_app_ui mmfree_hub_test_server LABELS app)
set_tests_properties(test_app_models_page PROPERTIES TIMEOUT 180)
