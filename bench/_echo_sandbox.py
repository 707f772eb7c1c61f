"""A stand-in sandbox that answers every action at once, for benchmarks and policy tests."""

from __future__ import annotations

import asyncio

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus import Bus, Delivery, Subscription
from services.eventlog.events import new_event
from services.eventlog.topics import TRAJECTORIES


class EchoSandbox:
    """Answers every action at once with a successful no-op observation; ends at the budget."""

    def __init__(self, bus: Bus, group: str = "echo-sandbox") -> None:
        self._bus = bus
        self._group = group
        self._budgets: dict[str, pb.Budgets] = {}
        # Answers being published: like the real sandbox, one action's publish does not
        # hold up the consumer, so many trajectories' steps share each broker round trip.
        self._answering: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Subscribe to the trajectory log."""
        await self._bus.subscribe(
            Subscription("echo-sandbox", (TRAJECTORIES.name,), self._group, self.on_delivery)
        )

    async def on_delivery(self, delivery: Delivery) -> None:
        """Observe each action; record the end after `finish` or the last allowed step."""
        event = delivery.event
        if event.HasField("trajectory_started"):
            self._budgets[event.trajectory_id] = event.trajectory_started.budgets
        elif event.HasField("action_proposed") and event.trajectory_id in self._budgets:
            task = asyncio.create_task(self._bus.publish_many(self._answers(event)))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    def _answers(self, event: pb.Event) -> list[pb.Event]:
        action = event.action_proposed
        budgets = self._budgets[event.trajectory_id]
        steps_left = max(0, budgets.max_steps - action.step_index - 1)
        observation = pb.ObservationRecorded(
            action_id=event.event_id,
            step_index=action.step_index,
            tool_name=action.tool_call.name,
            success=True,
            observation_json='{"error_message":"","message":"ok","success":true}',
            remaining=pb.BudgetRemaining(
                seconds=budgets.max_seconds, steps=steps_left, evals=budgets.max_evals
            ),
        )
        answers = [self._event(observation, event)]
        if action.tool_call.name == "finish" or steps_left == 0:
            del self._budgets[event.trajectory_id]
            ended = pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, steps=action.step_index + 1)
            answers.append(self._event(ended, event))
        return answers

    @staticmethod
    def _event(body, cause: pb.Event) -> pb.Event:
        return new_event(
            body, trajectory_id=cause.trajectory_id, service="sandbox", causation_id=cause.event_id
        )
