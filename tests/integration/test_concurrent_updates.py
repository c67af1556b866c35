"""Many clients changing one resource at once through the real server lose no update: each
AddTags / TagUser reads the tag set, merges its tags and writes it back, and every tag survives
(on PostgreSQL too, where READ COMMITTED alone would let writers overwrite each other)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import AwsClients
from tests.integration.hosting_support import IMAGE, make_role, unique

CLIENTS, TAGS_EACH = 8, 5  # 40 tags: within SageMaker's and IAM's limit of 50


def _tag_concurrently(clients: list[Any], tag: Callable[[Any, list[dict[str, str]]], object]) -> set[str]:
    """Each client adds its own TAGS_EACH tags one call at a time, all clients at once."""

    def run(i: int) -> None:
        for j in range(TAGS_EACH):
            tag(clients[i], [{"Key": f"c{i}-t{j}", "Value": str(j)}])

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(run, range(CLIENTS)))
    return {f"c{i}-t{j}" for i in range(CLIENTS) for j in range(TAGS_EACH)}


def test_concurrent_add_tags_on_one_model_keep_every_tag(aws: AwsClients) -> None:
    clients = [aws.client("sagemaker") for _ in range(CLIENTS)]
    name = unique("concurrent-tags")
    arn = clients[0].create_model(
        ModelName=name, ExecutionRoleArn=make_role(aws), PrimaryContainer={"Image": IMAGE}
    )["ModelArn"]
    try:
        expected = _tag_concurrently(clients, lambda sm, tags: sm.add_tags(ResourceArn=arn, Tags=tags))
        tags = clients[0].list_tags(ResourceArn=arn, MaxResults=100)["Tags"]
        assert {t["Key"] for t in tags} == expected
    finally:
        clients[0].delete_model(ModelName=name)


def test_concurrent_tag_user_keeps_every_tag(aws: AwsClients) -> None:
    clients = [aws.client("iam") for _ in range(CLIENTS)]
    name = unique("concurrent-tags")
    clients[0].create_user(UserName=name)
    try:
        expected = _tag_concurrently(clients, lambda iam, tags: iam.tag_user(UserName=name, Tags=tags))
        tags = clients[0].list_user_tags(UserName=name, MaxItems=100)["Tags"]
        assert {t["Key"] for t in tags} == expected
    finally:
        clients[0].delete_user(UserName=name)
