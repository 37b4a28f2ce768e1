# Read by ctest after the discovered gtest tests (TEST_INCLUDE_FILES in tests/CMakeLists.txt): tests that need
# the machine to themselves under ctest -j2.
# - The accounting tests assert that a release build loses no event while a goroutine storm runs: not while a
#   second test's storm shares the two CPUs (ctest -j2 once ran two side by side, and the reader fell 8,432
#   events behind).
# - The one-minute storm keeps both CPUs busy for a minute: whatever ran beside it was slowed past its bounds.
# - The million-goroutine snapshot needs 4 GB free and its fixture holds 2.7 GB: a neighbour's memory fails
#   its check, or it pushes the neighbour towards the OOM killer.
set_tests_properties(
  Accounting.LifecycleStoppedMidStormAccountsForEveryProbeHit
  Accounting.GrStoppedMidStormShowsARowForEveryProbeHit
  Accounting.GrSeqHistogramsHoldEveryTrackedExit
  Accounting.SchedTotalsAndHistogramsHoldEveryRecordedDuration
  Accounting.GmTotalsAgreeWithTheAllocatorProbeHits
  Accounting.GcDeliversEveryEventItsProbesSent
  Accounting.MetricsLogLinesAndSummaryAgree
  LifecycleFaults.OneMinuteStormLeavesMemoryFlat
  LifecycleFaults.StdoutThatStopsReadingLosesLogLinesNotMetrics
  SnapshotFaults.MillionGoroutinesAreCountedExactly
  PROPERTIES RUN_SERIAL TRUE)
