/**
 * This process's name among the replicas: the host name (a pod's name in
 * Kubernetes, a container id under compose) for people reading /ready and
 * the logs, the pid, and random bytes so that a restarted process never
 * answers for its predecessor's requests.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

export const newReplicaId = (): string => `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
