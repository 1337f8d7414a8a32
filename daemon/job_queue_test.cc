#include "daemon/job_queue.h"

#include <catch2/catch.hpp>

namespace indafoto {

TEST_CASE("the job queue takes reloads, imports, reconcile, publish, then verify", "[job_queue]") {
  JobQueue q;
  CHECK(q.empty());
  CHECK(q.Next().kind == Job::Kind::kNone);
  q.StartVerify();
  q.RequestPublish();
  q.RequestReconcile();
  q.AddImport("b", "x/1.jpg");
  q.AddImport("a", "y/2.jpg");
  q.AddImport("a", "y/3.jpg");
  q.RequestReload("b");
  CHECK_FALSE(q.empty());

  Job j = q.Next();
  CHECK(j.kind == Job::Kind::kReloadCatalog);
  CHECK(j.source == "b");
  j = q.Next();
  REQUIRE(j.kind == Job::Kind::kImportPaths);
  CHECK(j.source == "a");
  CHECK(j.paths == std::vector<std::string>{"y/2.jpg", "y/3.jpg"});  // arrival order, one job per source
  j = q.Next();
  CHECK(j.kind == Job::Kind::kImportPaths);
  CHECK(j.source == "b");
  CHECK(q.Next().kind == Job::Kind::kReconcile);
  CHECK(q.Next().kind == Job::Kind::kPublish);
  CHECK(q.Next().kind == Job::Kind::kVerifyBatch);
  CHECK(q.Next().kind == Job::Kind::kVerifyBatch);  // until finished
  q.FinishVerify();
  CHECK(q.empty());
}

TEST_CASE("repeated requests coalesce into one job", "[job_queue]") {
  JobQueue q;
  for (int i = 0; i < 3; ++i) {
    q.RequestReconcile();
    q.RequestPublish();
    q.RequestReload("a");
  }
  CHECK(q.Next().kind == Job::Kind::kReloadCatalog);
  CHECK(q.Next().kind == Job::Kind::kReconcile);
  CHECK(q.Next().kind == Job::Kind::kPublish);
  CHECK(q.empty());
}

TEST_CASE("a delivery that arrives while the verify runs goes first", "[job_queue]") {
  JobQueue q;
  q.StartVerify();
  CHECK(q.Next().kind == Job::Kind::kVerifyBatch);
  q.AddImport("a", "z.jpg");
  CHECK(q.Next().kind == Job::Kind::kImportPaths);
  CHECK(q.Next().kind == Job::Kind::kVerifyBatch);
}

}  // namespace indafoto
