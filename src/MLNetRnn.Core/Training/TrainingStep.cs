namespace MLNetRnn.Core.Training;

/// <summary>What happened in one optimiser step, passed to <see cref="RecurrentTrainer.StepCompleted"/> right
/// after the step (a value type: reporting it allocates nothing).</summary>
/// <param name="Step">0-based step of the run, skipped steps included (the index into
/// <see cref="TrainingReport.GradientNorms"/>).</param>
/// <param name="Epoch">0-based epoch the step belongs to.</param>
/// <param name="Loss">Training loss of the step's mini-batch (regulariser excluded).</param>
/// <param name="GradientNormBefore">‖g‖ of the summed mini-batch gradient before clipping.</param>
/// <param name="GradientNormAfter">‖g‖ after clipping (equal to the norm before when clipping did not act).</param>
/// <param name="ClippingThreshold">The threshold this step was clipped against: τ, AutoClip's percentile, or +∞
/// without clipping.</param>
/// <param name="LearningRate">Learning rate of the step.</param>
/// <param name="Regularizer">Pascanu's Ω of the step (before weighting), 0 when off.</param>
/// <param name="Skipped">The loss or gradient was not finite, so the weights were not updated.</param>
public readonly record struct TrainingStep(int Step, int Epoch, double Loss, double GradientNormBefore, double GradientNormAfter,
    double ClippingThreshold, float LearningRate, double Regularizer, bool Skipped);
