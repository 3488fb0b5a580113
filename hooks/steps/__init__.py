"""The stacker hooks of a promotion, each with its pure planning and AWS layers (stacker/tenant.yaml
runs them in this order):

    pre_build    preflight.check_environment        the env file (and its name), before any AWS call
                 source_snapshot.check_source_snapshot
                 routing.check_routing                hostname and listener_priority free on the tier's listener
                 images.check_and_protect_images      the images exist; tagged deployed-<env>-<digest>
                 deploy_lock.acquire_lock
                 credentials.ensure_db_secret
                 pointer.record_live
                 leftovers.clear_failed_target
                 tier_copy.copy_under_tier_key       across tiers: the snapshot copy started (wait: false)
                 files.copy_data_set_files          <source>/files/<ts>/ -> <ns>/files/<ts>/ (hooks/aws/file_copy),
                                                    while RDS copies the snapshot
                 tier_copy.wait_for_restore_snapshot
    (stacks)     <ns>-base, <ns>-db-<timestamp>, <ns>-service
    post_build   stable.wait_for_service            the stable gate
                 pointer.flip_pointer
                 retire.retire_old_databases        (retire_plan, retire_database)
                 deploy_lock.release_lock

`wiring.stacker_hook` is how every hook is wired: arguments checked, settings read once,
clients reused, the lock released when a hook that holds it fails.
"""
