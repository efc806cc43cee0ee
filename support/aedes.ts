// In-process MQTT broker (aedes) for fast tests that do not need Mosquitto's exact behaviour.
export { type EmbeddedBroker as AedesBroker, startEmbeddedBroker as startAedes } from '../io/embedded-broker.js';
